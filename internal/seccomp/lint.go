package seccomp

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Finding is one lint result.
type Finding struct {
	Severity    string `json:"severity"`    // error, warning or info
	Requirement string `json:"requirement"` // the requirement ID it concerns
	Rule        int    `json:"rule"`        // index in syscalls, -1 for the profile
	Syscall     string `json:"syscall,omitempty"`
	Message     string `json:"message"`
}

func (f Finding) String() string {
	where := "profile"
	if f.Rule >= 0 {
		where = fmt.Sprintf("syscalls[%d]", f.Rule)
	}
	if f.Syscall != "" {
		where += " " + f.Syscall
	}
	return fmt.Sprintf("%-7s %-8s %s: %s", f.Severity, f.Requirement, where, f.Message)
}

// argsThatMatter names the calls whose arguments decide whether they are
// dangerous, and which argument.
var argsThatMatter = map[string]string{
	"clone":       "flags (arg 0) can create namespaces",
	"unshare":     "flags (arg 0) can create namespaces",
	"socket":      "the address family (arg 0) reaches rarely used protocol code",
	"personality": "the persona (arg 0) can disable ASLR or make data executable",
}

// intArgs lists int-typed arguments: the kernel drops their upper 32 bits,
// so a 64-bit NE/LT/LE/GT/GE check that allows can be bypassed with high bits.
var intArgs = map[string][]uint{
	"socket": {0, 1, 2}, "socketpair": {0, 1, 2}, "personality": {0}, "ioctl": {1}, "prctl": {0},
	"fcntl": {1}, "setsockopt": {1, 2}, "getsockopt": {1, 2}, "kill": {1}, "tgkill": {2},
}

// Lint reports every finding in p, most severe first.
func Lint(p *Profile) []Finding {
	var out []Finding
	add := func(sev, req string, rule int, call, format string, a ...any) {
		out = append(out, Finding{sev, req, rule, call, fmt.Sprintf(format, a...)})
	}
	if p.DefaultAction.Permits() {
		add("error", "R-LSM-d", -1, "", "default action %s: a blacklist-only profile lets every call not listed run, including calls newer than the profile; use a whitelist with a refusing default", p.DefaultAction)
	}
	bl := BlacklistSet()
	type firstRule struct {
		idx  int
		act  Action
		cond string
	}
	uncond := map[string]firstRule{}
	allowsPtrace := false
	for _, r := range p.Rules {
		cond := condKey(r)
		for _, n := range r.Names {
			if r.Action.Permits() {
				if n == "ptrace" {
					allowsPtrace = true
					add("error", "R-LSM-e", r.Index, n, "ptrace is allowed%s: a tracer can rewrite calls past the filter", condText(r))
				} else if why, ok := bl[n]; ok {
					add("warning", "R-LSM-c", r.Index, n, "blacklisted call allowed%s: %s", condText(r), why)
				}
				if why, ok := argsThatMatter[n]; ok && len(r.Args) == 0 {
					add("warning", "R-LSM-c", r.Index, n, "allowed without argument checks%s, but %s", condText(r), why)
				}
				if n == "clone3" {
					add("warning", "R-LSM-c", r.Index, n, "allowed%s, but its flags are in memory the filter cannot read; return ENOSYS so libc uses clone", condText(r))
				}
				for _, a := range r.Args {
					if truncated(n, a) {
						add("warning", "R-LSM-d", r.Index, n, "%s on int argument %d compares 64 bits, but the kernel ignores the upper 32: values with high bits set pass; use SCMP_CMP_MASKED_EQ with mask 0xffffffff", a.Op, a.Index)
					}
				}
			}
			if len(r.Args) == 0 && r.Action == p.DefaultAction && r.Includes.empty() && r.Excludes.empty() {
				add("info", "R-LSM-h", r.Index, n, "rule repeats the default action %s and has no effect", r.Action)
			}
			if prev, ok := uncond[n]; ok && prev.cond == cond {
				if prev.act == r.Action {
					add("warning", "R-LSM-h", r.Index, n, "shadowed by syscalls[%d], which already gives %s for all arguments", prev.idx, prev.act)
				} else {
					add("error", "R-LSM-h", r.Index, n, "contradicts syscalls[%d] (%s for all arguments); trustbox refuses to compile it", prev.idx, prev.act)
				}
				continue
			}
			if len(r.Args) == 0 {
				uncond[n] = firstRule{r.Index, r.Action, cond}
			}
		}
		if r.Action.Kind == Notify && p.ListenerPath == "" {
			add("warning", "R-LSM-h", r.Index, "", "SCMP_ACT_NOTIFY without listenerPath: the call blocks until someone holds the listener")
		}
	}
	if !allowsPtrace && p.DefaultAction.Permits() {
		add("error", "R-LSM-e", -1, "ptrace", "ptrace falls to the allowing default action")
	}
	rank := map[string]int{"error": 0, "warning": 1, "info": 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Severity] < rank[out[j].Severity] })
	return out
}

func truncated(call string, a Arg) bool {
	if a.Op == OpEQ || a.Op == OpMaskedEQ && uint32(a.Value>>32) == 0 {
		return false
	}
	for _, i := range intArgs[call] {
		if i == a.Index {
			return a.Op != OpMaskedEQ
		}
	}
	return false
}

func condKey(r Rule) string {
	b, _ := json.Marshal([]Cond{r.Includes, r.Excludes})
	return string(b)
}

func condText(r Rule) string {
	var parts []string
	if len(r.Includes.Caps) > 0 {
		parts = append(parts, "with "+strings.Join(r.Includes.Caps, "+"))
	}
	if len(r.Includes.Arches) > 0 {
		parts = append(parts, "on "+strings.Join(r.Includes.Arches, ","))
	}
	if r.Includes.MinKernel != "" {
		parts = append(parts, "from kernel "+r.Includes.MinKernel)
	}
	if len(r.Excludes.Caps) > 0 {
		parts = append(parts, "without "+strings.Join(r.Excludes.Caps, "+"))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// WriteFindings prints findings as text lines or as a JSON array.
func WriteFindings(w io.Writer, fs []Finding, format string) error {
	if format == "json" {
		if fs == nil {
			fs = []Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(fs); err != nil {
			return fmt.Errorf("write lint findings: %w", err)
		}
		return nil
	}
	for _, f := range fs {
		if _, err := fmt.Fprintln(w, f); err != nil {
			return fmt.Errorf("write lint findings: %w", err)
		}
	}
	return nil
}
