package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// containerd's shim shows the last JSON log line whose level is the
// lowercase "error"; the text form is logrus's, as runc writes it.
func TestLogFormats(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []string{"json", "text"} {
		path := filepath.Join(dir, format+".log")
		l, err := newLogger(path, format, false)
		if err != nil {
			t.Fatal(err)
		}
		l.Warn("careful")
		l.Error(errors.New(`boom "quoted"`))
		l.Close()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 2 {
			t.Fatalf("%s: %q", format, data)
		}
		if format == "json" {
			var e struct{ Level, Msg, Time string }
			if err := json.Unmarshal([]byte(lines[1]), &e); err != nil || e.Level != "error" || e.Msg != `boom "quoted"` || e.Time == "" {
				t.Fatalf("json line %q: %+v %v", lines[1], e, err)
			}
		} else if !strings.Contains(lines[1], `level=error msg="boom \"quoted\""`) {
			t.Fatalf("text line %q", lines[1])
		}
	}
	if _, err := newLogger("", "xml", false); err == nil {
		t.Fatal("unknown --log-format accepted")
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]int{"9": 9, "KILL": 9, "SIGKILL": 9, "sigterm": 15, "hup": 1, "RTMIN+2": 36} {
		if got, err := parseSignal(in); err != nil || int(got) != want {
			t.Errorf("%s: got %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "65", "NOPE", "RTMIN+40", ""} {
		if _, err := parseSignal(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
