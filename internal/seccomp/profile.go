package seccomp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Op is an argument comparison operator.
type Op uint8

// The comparison operators of libseccomp and the OCI spec.
const (
	OpNE Op = iota + 1
	OpLT
	OpLE
	OpEQ
	OpGE
	OpGT
	OpMaskedEQ
)

var opNames = map[string]Op{
	"SCMP_CMP_NE": OpNE, "SCMP_CMP_LT": OpLT, "SCMP_CMP_LE": OpLE, "SCMP_CMP_EQ": OpEQ,
	"SCMP_CMP_GE": OpGE, "SCMP_CMP_GT": OpGT, "SCMP_CMP_MASKED_EQ": OpMaskedEQ,
}

func (o Op) String() string {
	for n, v := range opNames {
		if v == o {
			return n
		}
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Arg is one argument comparison: args[Index] Op Value (for MASKED_EQ:
// args[Index] & Value == ValueTwo).
type Arg struct {
	Index    uint
	Value    uint64
	ValueTwo uint64
	Op       Op
}

// Cond restricts a rule by capability, architecture (Go names, as in
// Docker: amd64, x86, x32, arm64, ...) and minimum kernel version.
type Cond struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// Rule is one entry of the profile's syscalls list.
type Rule struct {
	Names    []string
	Action   Action
	Args     []Arg
	Includes Cond
	Excludes Cond
	Comment  string
	Index    int // position in the profile's syscalls list, for messages
}

// ArchMap is Docker's architecture entry: the main arch and the
// sub-architectures that run on it.
type ArchMap struct {
	Arch string   `json:"architecture"`
	Subs []string `json:"subArchitectures"`
}

// Profile is a seccomp profile as OCI's linux.seccomp or Docker's JSON gives it.
type Profile struct {
	DefaultAction    Action
	Architectures    []string
	ArchMap          []ArchMap
	Flags            []string
	ListenerPath     string
	ListenerMetadata string
	Rules            []Rule
}

type wireArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

type wireSyscall struct {
	Name     string    `json:"name,omitempty"`
	Names    []string  `json:"names,omitempty"`
	Action   string    `json:"action"`
	ErrnoRet *uint     `json:"errnoRet,omitempty"`
	Args     []wireArg `json:"args,omitempty"`
	Comment  string    `json:"comment,omitempty"`
	Includes *Cond     `json:"includes,omitempty"`
	Excludes *Cond     `json:"excludes,omitempty"`
}

type wireProfile struct {
	DefaultAction    string        `json:"defaultAction"`
	DefaultErrnoRet  *uint         `json:"defaultErrnoRet,omitempty"`
	Architectures    []string      `json:"architectures,omitempty"`
	ArchMap          []ArchMap     `json:"archMap,omitempty"`
	Flags            []string      `json:"flags,omitempty"`
	ListenerPath     string        `json:"listenerPath,omitempty"`
	ListenerMetadata string        `json:"listenerMetadata,omitempty"`
	Syscalls         []wireSyscall `json:"syscalls,omitempty"`
}

// Parse reads a profile in Docker's seccomp JSON or as OCI's linux.seccomp
// object (Docker's format is a superset). Unknown fields, actions,
// operators, flags and system-call names are errors naming the rule.
func Parse(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w wireProfile
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("parse seccomp profile: %w", err)
	}
	return fromWire(&w)
}

// FromOCI converts the runtime spec's linux.seccomp object.
func FromOCI(s *specs.LinuxSeccomp) (*Profile, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode linux.seccomp: %w", err)
	}
	return Parse(data)
}

func fromWire(w *wireProfile) (*Profile, error) {
	if w.DefaultAction == "" {
		return nil, fmt.Errorf("seccomp profile: defaultAction is missing")
	}
	def, err := parseAction(w.DefaultAction, w.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: defaultAction: %w", err)
	}
	p := &Profile{DefaultAction: def, Architectures: w.Architectures, ArchMap: w.ArchMap,
		Flags: w.Flags, ListenerPath: w.ListenerPath, ListenerMetadata: w.ListenerMetadata}
	for _, f := range w.Flags {
		if _, ok := flagBits[f]; !ok {
			return nil, fmt.Errorf("seccomp profile: unknown flag %q (want SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW, _TSYNC or _WAIT_KILLABLE_RECV)", f)
		}
	}
	for _, a := range append(append([]string(nil), w.Architectures...), archMapNames(w.ArchMap)...) {
		if !validArch(a) {
			return nil, fmt.Errorf("seccomp profile: unknown architecture %q", a)
		}
	}
	for i, s := range w.Syscalls {
		r, err := ruleFromWire(i, s)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

func ruleFromWire(i int, s wireSyscall) (Rule, error) {
	where := fmt.Sprintf("seccomp profile: syscalls[%d]", i)
	names := s.Names
	if s.Name != "" {
		names = append([]string{s.Name}, names...)
	}
	if len(names) > 0 {
		where += fmt.Sprintf(" (%s)", strings.Join(firstN(names, 3), ","))
	}
	if len(names) == 0 {
		return Rule{}, fmt.Errorf("%s: no system call names", where)
	}
	act, err := parseAction(s.Action, s.ErrnoRet)
	if err != nil {
		return Rule{}, fmt.Errorf("%s: %w", where, err)
	}
	r := Rule{Names: names, Action: act, Comment: s.Comment, Index: i}
	if s.Includes != nil {
		r.Includes = *s.Includes
	}
	if s.Excludes != nil {
		r.Excludes = *s.Excludes
	}
	for _, c := range []Cond{r.Includes, r.Excludes} {
		if c.MinKernel != "" {
			if _, err := parseKernel(c.MinKernel); err != nil {
				return Rule{}, fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	for j, n := range names {
		if !knownName(n) {
			return Rule{}, fmt.Errorf("%s: names[%d]: unknown system call %q", where, j, n)
		}
	}
	seen := map[uint][]Arg{}
	for j, a := range s.Args {
		op, ok := opNames[strings.ToUpper(a.Op)]
		if !ok {
			return Rule{}, fmt.Errorf("%s: args[%d]: unknown operator %q (want SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT or _MASKED_EQ)", where, j, a.Op)
		}
		if a.Index > 5 {
			return Rule{}, fmt.Errorf("%s: args[%d]: index %d, want 0..5", where, j, a.Index)
		}
		if a.ValueTwo != 0 && op != OpMaskedEQ {
			return Rule{}, fmt.Errorf("%s: args[%d]: valueTwo is only meaningful for SCMP_CMP_MASKED_EQ", where, j)
		}
		arg := Arg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: op}
		if op == OpMaskedEQ && arg.ValueTwo&^arg.Value != 0 {
			return Rule{}, fmt.Errorf("%s: args[%d]: MASKED_EQ wants bits %#x outside mask %#x: never matches", where, j, arg.ValueTwo, arg.Value)
		}
		for _, prev := range seen[a.Index] {
			if prev.Op == OpEQ && op == OpEQ && prev.Value != a.Value {
				return Rule{}, fmt.Errorf("%s: args[%d]: argument %d must equal both %#x and %#x: contradictory", where, j, a.Index, prev.Value, a.Value)
			}
		}
		seen[a.Index] = append(seen[a.Index], arg)
		r.Args = append(r.Args, arg)
	}
	return r, nil
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string(nil), s[:n]...), "...")
	}
	return s
}

func archMapNames(m []ArchMap) []string {
	var out []string
	for _, e := range m {
		out = append(out, e.Arch)
		out = append(out, e.Subs...)
	}
	return out
}
