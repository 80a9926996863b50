package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MaxConfigSize bounds config.json: anything larger is refused before parsing.
const MaxConfigSize = 4 << 20

// Bundle is a loaded, validated OCI bundle.
type Bundle struct {
	Dir    string // absolute bundle directory
	Rootfs string // absolute rootfs path
	Spec   *specs.Spec
	// Unknown names members the runtime does not know; OCI says runtimes MUST
	// ignore them, so they are reported, not refused.
	Unknown Unknown
}

// Load reads DIR/config.json, parses it strictly enough to name every
// malformed field, and validates it.
func Load(dir string) (*Bundle, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	f, err := os.Open(filepath.Join(abs, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", dir, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s/config.json: %w", dir, err)
	}
	s, unknown, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", abs, err)
	}
	b := &Bundle{Dir: abs, Spec: s, Unknown: unknown}
	if s.Root != nil {
		b.Rootfs = s.Root.Path
		if !filepath.IsAbs(b.Rootfs) {
			b.Rootfs = filepath.Join(abs, b.Rootfs)
		}
	}
	if err := Validate(s, b.Rootfs); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", abs, err)
	}
	return b, nil
}

//go:generate go run gendecode.go

// Parse decodes a config, reporting JSON errors with their byte offset and
// field, and returns the unknown members it met.
func Parse(data []byte) (*specs.Spec, Unknown, error) {
	if len(data) > MaxConfigSize {
		return nil, Unknown{}, fmt.Errorf("config is larger than %d bytes", MaxConfigSize)
	}
	return parse(data)
}

// Decode decodes a spec this runtime wrote itself (the one in state.json).
// It has no size limit: encoding/json escapes <, > and & in six bytes each,
// so the spec of a config within MaxConfigSize may exceed it once saved.
func Decode(data []byte) (*specs.Spec, error) {
	s, _, err := parse(data)
	return s, err
}

func parse(data []byte) (*specs.Spec, Unknown, error) {
	if s, unknown, ok := fastParse(data); ok {
		return s, unknown, nil
	}
	return slowParse(data)
}

// Unknown lists the members of a config no field has: the first
// maxUnknown by path (the encoding/json fallback knows only the first, by
// name), and how many more there were.
type Unknown struct {
	Paths []string
	More  int
}

// maxUnknown bounds what is kept: a config can hold hundreds of
// thousands of members, each of which would be a warning.
const maxUnknown = 16

// String lists the paths, quoted, and the count of the rest.
func (u Unknown) String() string {
	q := make([]string, len(u.Paths))
	for i, p := range u.Paths {
		q[i] = strconv.Quote(p)
	}
	s := strings.Join(q, ", ")
	if u.More > 0 {
		s += fmt.Sprintf(" and %d more", u.More)
	}
	return s
}

// slowParse decodes with encoding/json: what fastParse declines, and the
// reference it is fuzzed against.
func slowParse(data []byte) (*specs.Spec, Unknown, error) {
	// Strict first: the common config has no unknown field and is decoded
	// once; only one that has gets the lenient second pass OCI asks for.
	var unknown Unknown
	var s specs.Spec
	err := decodeOne(data, &s, true)
	if name, ok := strings.CutPrefix(errString(err), "json: unknown field "); ok {
		// encoding/json quotes the name as Go does (%q).
		if n, uerr := strconv.Unquote(name); uerr == nil {
			name = n
		}
		unknown.Paths = []string{name}
		s = specs.Spec{}
		err = decodeOne(data, &s, false)
	}
	if err != nil {
		return nil, Unknown{}, err
	}
	return &s, unknown, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func decodeOne(data []byte, s *specs.Spec, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(s); err != nil {
		if strict && strings.HasPrefix(err.Error(), "json: unknown field ") {
			return err
		}
		return describeJSONError(data, err)
	}
	// Anything but JSON whitespace after the object (dec.More() would
	// miss a stray ] or }).
	if strings.Trim(string(data[dec.InputOffset():]), " \t\r\n") != "" {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Errorf("malformed JSON at line %d (byte %d): %v", line, se.Offset, se)
	case errors.As(err, &te):
		line := 1 + bytes.Count(data[:min(int(te.Offset), len(data))], []byte("\n"))
		return fmt.Errorf("field %q at line %d: cannot use JSON %s as %s", te.Field, line, te.Value, te.Type)
	case errors.Is(err, io.EOF):
		return errors.New("empty config")
	}
	return fmt.Errorf("malformed JSON: %w", err)
}
