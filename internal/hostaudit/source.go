package hostaudit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultMaxFileSize bounds every file a check reads: host files are small;
// anything larger is reported as malformed rather than read whole.
const DefaultMaxFileSize = 4 << 20

var (
	errTooBig = errors.New("file is larger than the size limit")
	errBinary = errors.New("file holds binary data where text was expected")
)

// source reads host files beneath a root directory (os.Root: symlinks
// cannot lead a fixture's reads outside it), and holds the live probes.
type source struct {
	root  *os.Root
	dir   string
	max   int64
	probe Prober
	now   time.Time
	// stateRoot is trustbox's state directory on the host (holds audit.log).
	stateRoot string
}

func rel(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

// read returns the raw bytes of the file at the absolute host path p.
func (s *source) read(p string) ([]byte, error) {
	r, err := s.resolve(p, true)
	if err != nil {
		return nil, err
	}
	f, err := s.root.Open(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, s.max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if int64(len(data)) > s.max {
		return nil, fmt.Errorf("read %s: %w (%d bytes)", p, errTooBig, s.max)
	}
	return data, nil
}

// text reads a text file, refusing binary content.
func (s *source) text(p string) (string, error) {
	data, err := s.read(p)
	if err != nil {
		return "", err
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return "", fmt.Errorf("read %s: %w", p, errBinary)
	}
	return string(data), nil
}

// value reads a one-value file (a sysctl) and returns it trimmed.
func (s *source) value(p string) (string, error) {
	t, err := s.text(p)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(t)
	if v == "" {
		return "", fmt.Errorf("read %s: file is empty (truncated?)", p)
	}
	return v, nil
}

func (s *source) stat(p string) (fs.FileInfo, error) {
	r, err := s.resolve(p, true)
	if err != nil {
		return nil, err
	}
	return s.root.Lstat(r)
}

func (s *source) lstat(p string) (fs.FileInfo, error) {
	r, err := s.resolve(p, false)
	if err != nil {
		return nil, err
	}
	return s.root.Lstat(r)
}

func (s *source) exists(p string) bool {
	_, err := s.lstat(p)
	return err == nil
}

// list returns the names in a directory, sorted.
func (s *source) list(p string) ([]string, error) {
	r, err := s.resolve(p, true)
	if err != nil {
		return nil, err
	}
	f, err := s.root.Open(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	sortStrings(names)
	return names, nil
}

func missing(err error) bool { return errors.Is(err, fs.ErrNotExist) }
