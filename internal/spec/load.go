package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	// Unknown lists fields the runtime does not know; OCI says runtimes MUST
	// ignore them, so they are reported, not refused.
	Unknown []string
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
// field, and returns the unknown fields it met.
func Parse(data []byte) (*specs.Spec, []string, error) {
	if len(data) > MaxConfigSize {
		return nil, nil, fmt.Errorf("config is larger than %d bytes", MaxConfigSize)
	}
	if s, unknown, ok := fastParse(data); ok {
		return s, unknown, nil
	}
	return slowParse(data)
}

// slowParse decodes with encoding/json: what fastParse declines, and the
// reference it is fuzzed against.
func slowParse(data []byte) (*specs.Spec, []string, error) {
	// Strict first: the common config has no unknown field and is decoded
	// once; only one that has gets the lenient second pass OCI asks for.
	var unknown []string
	var s specs.Spec
	err := decodeOne(data, &s, true)
	if err != nil && strings.HasPrefix(err.Error(), "json: unknown field ") {
		unknown = append(unknown, strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
		s = specs.Spec{}
		err = decodeOne(data, &s, false)
	}
	if err != nil {
		return nil, nil, err
	}
	return &s, unknown, nil
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
	if dec.More() {
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
