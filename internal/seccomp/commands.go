package seccomp

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
)

// Load reads a profile given as a built-in name (default, strict,
// minimal) or a path to Docker or OCI seccomp JSON.
func Load(ref string) (*Profile, error) {
	if slices.Contains(BuiltinNames(), ref) {
		return Builtin(ref)
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		return nil, fmt.Errorf("load seccomp profile: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return p, nil
}

// ExplainProfile compiles ref for opts and writes a summary and the
// annotated program.
func ExplainProfile(w io.Writer, ref string, opts Options) error {
	p, err := Load(ref)
	if err != nil {
		return err
	}
	prog, err := Compile(p, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "; %s: %d instructions, architectures %v, flags %#x\n", ref, len(prog.Filter), prog.Arches, prog.Flags)
	for _, n := range prog.Notes {
		fmt.Fprintf(w, "; note: %s\n", n)
	}
	return Explain(w, prog.Filter)
}

// LintProfile writes ref's findings and reports whether any is an error.
func LintProfile(w io.Writer, ref, format string) (bool, error) {
	p, err := Load(ref)
	if err != nil {
		return false, err
	}
	fs := Lint(p)
	if err := WriteFindings(w, fs, format); err != nil {
		return false, err
	}
	for _, f := range fs {
		if f.Severity == "error" {
			return true, nil
		}
	}
	return false, nil
}

// ShowProfile writes ref as Docker JSON, or resolved for env as OCI's
// linux.seccomp object when oci is set.
func ShowProfile(w io.Writer, ref string, oci bool, env Env) error {
	p, err := Load(ref)
	if err != nil {
		return err
	}
	var v any = p
	if oci {
		if v, err = p.ToOCI(env); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write profile: %w", err)
	}
	return nil
}

// RecordOptions steer RecordToFile.
type RecordOptions struct {
	Base   string    // profile whose allowed calls are not trapped
	Out    string    // where the learned profile goes
	Events io.Writer // JSON lines, one per reported call (R-OPS-6); nil: none
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// RecordToFile runs argv in learning mode and writes the learned whitelist
// in Docker JSON; it returns the command's exit status.
func RecordToFile(argv []string, o RecordOptions) (int, error) {
	base, err := Load(o.Base)
	if err != nil {
		return -1, err
	}
	rec := NewRecording()
	if o.Events != nil {
		enc := json.NewEncoder(o.Events)
		rec.OnEvent = func(e Event) { _ = enc.Encode(e) }
	}
	code, err := RecordCommand(argv, base, Options{}, rec, o.Stdin, o.Stdout, o.Stderr)
	if err != nil {
		return code, err
	}
	data, err := json.MarshalIndent(rec.Profile(base), "", "  ")
	if err != nil {
		return code, fmt.Errorf("encode learned profile: %w", err)
	}
	if err := os.WriteFile(o.Out, append(data, '\n'), 0o644); err != nil {
		return code, fmt.Errorf("write learned profile: %w", err)
	}
	return code, nil
}

// GenerateProfile builds a profile from recording files and a template,
// writes it to w and the reasons, one call a line, to why.
func GenerateProfile(w, why io.Writer, files []string, template string, strict bool) error {
	var recs []Recorded
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			return err
		}
		recs = append(recs, Recorded{Name: f, Profile: p})
	}
	p, adds, err := Generate(recs, template, strict)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode generated profile: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("write generated profile: %w", err)
	}
	for _, a := range adds {
		fmt.Fprintln(why, a)
	}
	return nil
}
