package seccomp

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
	"golang.org/x/sys/unix"
)

// PtracePolicy says what to do with a profile that lets ptrace run (R-LSM-e).
type PtracePolicy uint8

const (
	// PtraceRefuse fails compilation, naming the rule (the default).
	PtraceRefuse PtracePolicy = iota
	// PtraceDeny compiles the profile with ptrace refused (EPERM) and notes it.
	PtraceDeny
	// PtraceAllow is the explicit override; the caller must log Program.Notes.
	PtraceAllow
)

// Options steer compilation.
type Options struct {
	Env Env
	// BadArch is returned for foreign architectures; zero value KillProcess.
	BadArch Action
	// DefaultForUnknown applies an ERRNO default action also to call numbers
	// trustbox's tables do not know, as libseccomp does. Otherwise those
	// calls (newer than the profile) get ENOSYS so that libc falls back to
	// older calls, as runc does; kill and trap defaults stay as they are.
	DefaultForUnknown bool
	Ptrace            PtracePolicy
	// MergeBlacklist kills every Blacklist call whatever the profile says
	// (the baseline's always-on blacklist, R-LSM-c); overridden allowances
	// are noted for the log.
	MergeBlacklist bool
}

// Program is a compiled filter ready for seccomp(2).
type Program struct {
	Filter           []unix.SockFilter
	Flags            uint     // seccomp(2) flags the profile asked for
	Arches           []string // architectures the filter accepts
	ListenerPath     string
	ListenerMetadata string
	Notes            []string // decisions the caller must log (overrides)
}

// Compile resolves p for opts.Env and emits one seccomp-bpf program that
// validates the architecture, loads the call number, dispatches on it by an
// optimal search tree and falls to the default action (R-LSM-d).
func Compile(p *Profile, opts Options) (*Program, error) {
	pl, err := p.resolve(opts.Env)
	if err != nil {
		return nil, err
	}
	prog := &Program{ListenerPath: p.ListenerPath, ListenerMetadata: p.ListenerMetadata}
	for _, f := range p.Flags {
		prog.Flags |= flagBits[f]
	}
	if opts.MergeBlacklist {
		mergeBlacklist(pl, prog)
	}
	if err := applyPtracePolicy(pl, opts.Ptrace, prog); err != nil {
		return nil, err
	}
	unknown := pl.def
	if !opts.DefaultForUnknown && pl.def.Kind == Errno {
		unknown = Action{Kind: Errno, Data: uint16(unix.ENOSYS)}
	}
	var secs []*section
	for _, ap := range pl.arches {
		prog.Arches = append(prog.Arches, ap.arch.Name)
		var s *section
		for _, e := range secs {
			if e.audit == ap.arch.Audit {
				s = e
			}
		}
		if s == nil {
			s = &section{audit: ap.arch.Audit}
			secs = append(secs, s)
		}
		s.arches = append(s.arches, ap)
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("compile seccomp profile: no architecture trustbox supports (have %v)", syscalls.Arches())
	}
	a := &asm{}
	a.load(4) // seccomp_data.arch
	labels := make([]label, len(secs))
	for i, s := range secs {
		labels[i] = a.newLabel()
		a.jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, s.audit, labels[i], labelNext)
	}
	a.ret(opts.BadArch)
	for i, s := range secs {
		a.bind(labels[i])
		a.load(0) // seccomp_data.nr
		ls := s.leaves(pl.def, unknown, opts.BadArch)
		bits := 64
		for _, ap := range s.arches {
			bits = min(bits, ap.arch.Bits)
		}
		emitTree(a, ls, optimalSplits(ls), 0, len(ls)-1, bits)
	}
	prog.Filter, err = a.assemble()
	if err != nil {
		return nil, fmt.Errorf("compile seccomp profile: %w", err)
	}
	return prog, nil
}

func emitTree(a *asm, ls []leaf, root [][]int, i, j, bits int) {
	if i == j {
		emitLeaf(a, &ls[i], bits)
		return
	}
	k := root[i][j]
	if k < 0 {
		g := ls[i]
		g.hi = ls[j].hi
		for m := i + 1; m <= j; m++ {
			if ls[m].key() != g.key() {
				g.except = append(g.except, ls[m])
			}
		}
		sort.SliceStable(g.except, func(x, y int) bool { return g.except[x].weight > g.except[y].weight })
		emitLeaf(a, &g, bits)
		return
	}
	right := a.newLabel()
	a.jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, ls[k+1].lo, right, labelNext)
	emitTree(a, ls, root, i, k, bits)
	a.bind(right)
	emitTree(a, ls, root, k+1, j, bits)
}

// emitLeaf returns the run's action, checking arguments only for calls
// whose rules need them: every other call reaches its return having read
// nothing but arch and nr, so the kernel's action cache applies.
func emitLeaf(a *asm, l *leaf, bits int) {
	var targets []label
	for _, e := range l.except {
		t := a.newLabel()
		targets = append(targets, t)
		a.jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, e.lo, t, labelNext)
	}
	emitOutcome(a, l, bits)
	for i := range l.except {
		a.bind(targets[i])
		emitOutcome(a, &l.except[i], bits)
	}
}

func emitOutcome(a *asm, l *leaf, bits int) {
	// inA is the seccomp_data word A holds when the previous rule failed,
	// if every way it fails leaves the same one: the next rule then need
	// not load it again (rules on one argument, such as socket families).
	inA := noWord
	for _, r := range l.conds {
		next := a.newLabel()
		if len(r.args) == 1 {
			inA = emitCmp(a, r.args[0], bits, next, inA)
		} else {
			for _, arg := range r.args {
				emitCmp(a, arg, bits, next, noWord)
			}
			inA = noWord
		}
		a.ret(r.action)
		a.bind(next)
	}
	a.ret(l.fb)
}

func applyPtracePolicy(pl *plan, pol PtracePolicy, prog *Program) error {
	for _, ap := range pl.arches {
		nr, ok := ap.arch.Number("ptrace")
		if !ok {
			continue
		}
		c := ap.calls[nr]
		why := ""
		switch {
		case c == nil && pl.def.Permits():
			why = "the default action " + pl.def.String()
		case c != nil:
			conds, fb := c.outcome(pl.def)
			for _, r := range conds {
				if r.action.Permits() && why == "" {
					why = fmt.Sprintf("syscalls[%d] (%s)", r.rule, r.action)
				}
			}
			if fb.Permits() && why == "" {
				why = fmt.Sprintf("syscalls[%d] (%s)", c.uncondBy, fb)
				if c.uncond == nil {
					why = "the default action " + fb.String()
				}
			}
		}
		if why == "" {
			continue
		}
		switch pol {
		case PtraceRefuse:
			return fmt.Errorf("compile seccomp profile: ptrace is allowed on %s by %s; R-LSM-e forbids it (a tracer can rewrite calls past the filter); override explicitly to run anyway", ap.arch.Name, why)
		case PtraceDeny:
			ap.calls[nr] = &callPlan{name: "ptrace", uncond: &Action{Kind: Errno, Data: uint16(unix.EPERM)}, uncondBy: -1}
			prog.Notes = append(prog.Notes, fmt.Sprintf("ptrace on %s refused with EPERM although %s allows it (R-LSM-e)", ap.arch.Name, why))
		case PtraceAllow:
			prog.Notes = append(prog.Notes, fmt.Sprintf("ptrace on %s allowed by %s under an explicit override of R-LSM-e", ap.arch.Name, why))
		}
	}
	return nil
}

// mergeBlacklist makes every blacklisted call kill on every arch.
func mergeBlacklist(pl *plan, prog *Program) {
	kill := Action{Kind: KillProcess}
	var overridden []string
	for _, ap := range pl.arches {
		for _, b := range Blacklist {
			nr, ok := ap.arch.Number(b.Name)
			if !ok {
				continue
			}
			if c := ap.calls[nr]; c != nil || pl.def.Permits() {
				permits := c == nil
				if c != nil {
					conds, fb := c.outcome(pl.def)
					permits = fb.Permits()
					for _, r := range conds {
						permits = permits || r.action.Permits()
					}
				}
				if permits && !contains(overridden, b.Name) {
					overridden = append(overridden, b.Name)
				}
			}
			ap.calls[nr] = &callPlan{name: b.Name, uncond: &kill, uncondBy: -1}
		}
	}
	if len(overridden) > 0 {
		prog.Notes = append(prog.Notes, fmt.Sprintf("the always-on blacklist (R-LSM-c) kills calls the profile allowed: %s", strings.Join(overridden, ", ")))
	}
}
