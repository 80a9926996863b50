package auditlog

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Event is one line of the log.
type Event struct {
	Seq    uint64         `json:"seq"`
	Time   time.Time      `json:"time"`
	Event  string         `json:"event"`
	ID     string         `json:"id,omitempty"`
	Pid    int            `json:"pid"` // the runtime process that wrote it
	Fields map[string]any `json:"fields,omitempty"`
	Prev   string         `json:"prev"`
	Hash   string         `json:"hash"`
}

// Genesis is the "previous hash" of the first event.
var Genesis = hex.EncodeToString(make([]byte, sha256.Size))

// Log is an audit log file plus its head file (the last seq and hash, so a
// truncated tail is detected too).
type Log struct {
	Path string
}

// Open returns the log at dir/audit.log.
func Open(dir string) *Log { return &Log{Path: filepath.Join(dir, "audit.log")} }

func (l *Log) headPath() string { return l.Path + ".head" }

// digest hashes the event's canonical JSON (objects with sorted keys,
// numbers kept exact) with Hash cleared, so a reader re-derives the same bytes.
func digest(e Event) (string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	if b, err = json.Marshal(v); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Append writes one event, chained to the last one, under an exclusive lock.
func (l *Log) Append(event, id string, fields map[string]any) error {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(l.Path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("audit log lock: %w", err)
	}
	seq, prev, err := l.readHead()
	if err != nil {
		return err
	}
	e := Event{Seq: seq + 1, Time: time.Now().UTC(), Event: event, ID: id, Pid: os.Getpid(), Fields: fields, Prev: prev}
	if e.Hash, err = digest(e); err != nil {
		return fmt.Errorf("audit log: encode %s: %w", event, err)
	}
	line, _ := json.Marshal(e)
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return l.writeHead(e.Seq, e.Hash)
}

type head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

func (l *Log) readHead() (uint64, string, error) {
	b, err := os.ReadFile(l.headPath())
	if errors.Is(err, os.ErrNotExist) {
		return 0, Genesis, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("audit head: %w", err)
	}
	var h head
	if err := json.Unmarshal(b, &h); err != nil {
		return 0, "", fmt.Errorf("audit head %s is corrupt: %w", l.headPath(), err)
	}
	return h.Seq, h.Hash, nil
}

// headSize is the head file's fixed length: its JSON padded with spaces.
const headSize = 128

// writeHead overwrites the head in place (the caller holds the log's lock):
// one write of a fixed length at offset 0, so a reader never sees a shorter
// or mixed record, and no new inode per event (a temporary file plus rename
// cost ~0.4 ms per event on ext4, three events per container).
func (l *Log) writeHead(seq uint64, hash string) error {
	b, _ := json.Marshal(head{seq, hash})
	if len(b) > headSize {
		return fmt.Errorf("audit head: %d bytes", len(b))
	}
	b = append(b, bytes.Repeat([]byte{' '}, headSize-len(b))...)
	f, err := os.OpenFile(l.headPath(), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	_, err = f.WriteAt(b, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit head: %w", err)
	}
	return nil
}

// Problem is one verification failure.
type Problem struct {
	Line int    `json:"line"`
	Msg  string `json:"msg"`
}

// Verify re-hashes every event and checks the chain and the head; it returns
// the number of events checked and every problem found.
func (l *Log) Verify() (int, []Problem, error) {
	f, err := os.Open(l.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	// Appenders hold the lock exclusively while they write an event and
	// its head: read both as one consistent state.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		return 0, nil, fmt.Errorf("audit log lock: %w", err)
	}
	n, probs, last, lastSeq := verifyStream(f)
	seq, hash, err := l.readHead()
	if err != nil {
		probs = append(probs, Problem{0, err.Error()})
	} else if seq != lastSeq || hash != last {
		probs = append(probs, Problem{n, fmt.Sprintf("log ends at event %d but the head records event %d: events were removed from the end", lastSeq, seq)})
	}
	return n, probs, nil
}

func verifyStream(r io.Reader) (int, []Problem, string, uint64) {
	var probs []Problem
	prev, seq := Genesis, uint64(0)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			probs = append(probs, Problem{n, "not a JSON event: " + err.Error()})
			continue
		}
		if e.Seq != seq+1 {
			probs = append(probs, Problem{n, fmt.Sprintf("sequence jumps from %d to %d: events missing", seq, e.Seq)})
		}
		if e.Prev != prev {
			probs = append(probs, Problem{n, "previous-hash link broken: an earlier event was removed or changed"})
		}
		if h, err := digest(e); err != nil || h != e.Hash {
			probs = append(probs, Problem{n, fmt.Sprintf("event %d (%s) was modified: its hash does not match", e.Seq, e.Event)})
		}
		prev, seq = e.Hash, e.Seq
	}
	if err := sc.Err(); err != nil {
		probs = append(probs, Problem{n + 1, err.Error()})
	}
	return n, probs, prev, seq
}
