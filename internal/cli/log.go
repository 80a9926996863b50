package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// logger writes runc-compatible log lines: logrus's text format or JSON with
// a lowercase "level" (containerd's shim surfaces the last level=="error" line).
type logger struct {
	mu     sync.Mutex
	w      io.Writer
	file   *os.File
	json   bool
	debug  bool
	toFile bool
}

func newLogger(path, format string, debug bool) (*logger, error) {
	l := &logger{w: os.Stderr, debug: debug}
	switch format {
	case "text", "":
	case "json":
		l.json = true
	default:
		return nil, fmt.Errorf("--log-format: unknown format %q (want text or json)", format)
	}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--log: %w", err)
		}
		l.w, l.file, l.toFile = f, f, true
	}
	return l, nil
}

func (l *logger) Close() {
	if l.file != nil {
		l.file.Close()
	}
}

func (l *logger) line(level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	if l.json {
		b, _ := json.Marshal(struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}{level, msg, ts})
		fmt.Fprintf(l.w, "%s\n", b)
		return
	}
	fmt.Fprintf(l.w, "time=%q level=%s msg=%s\n", ts, level, strconv.Quote(msg))
}

// Error logs a fatal error once to the log and, when the log is a file, to stderr.
func (l *logger) Error(err error) {
	l.line("error", err.Error())
	if l.toFile {
		fmt.Fprintf(os.Stderr, "trustbox: %v\n", err)
	}
}

func (l *logger) Warn(msg string) { l.line("warning", msg) }
func (l *logger) Info(msg string) { l.line("info", msg) }
func (l *logger) Debugf(format string, a ...any) {
	if l.debug {
		l.line("debug", fmt.Sprintf(format, a...))
	}
}
