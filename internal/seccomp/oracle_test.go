package seccomp

import (
	"testing"

	"github.com/trustbox/trustbox/internal/seccomp/bpfsim"
	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
	"golang.org/x/sys/unix"
)

// expect is the reference semantics the BPF must match, computed from the
// resolved plan without any BPF: first matching argument rule, else the
// call's unconditional action, else the default.
func expect(pl *plan, arch syscalls.Arch, nr uint32, args [6]uint64, opts Options) Action {
	for _, ap := range pl.arches {
		if ap.arch.Name != arch.Name {
			continue
		}
		c := ap.calls[nr]
		if c == nil {
			if _, known := arch.CallName(nr); !known && nr > lastRegular(arch) && !opts.DefaultForUnknown && pl.def.Kind == Errno {
				return Action{Kind: Errno, Data: uint16(unix.ENOSYS)}
			}
			return pl.def
		}
		conds, fb := c.outcome(pl.def)
		for _, r := range conds {
			if argsMatch(r.args, args, arch.Bits) {
				return r.action
			}
		}
		return fb
	}
	return opts.BadArch
}

func argsMatch(cmps []Arg, args [6]uint64, bits int) bool {
	for _, c := range cmps {
		v, want, two := args[c.Index], c.Value, c.ValueTwo
		if bits == 32 {
			v, want, two = uint64(uint32(v)), uint64(uint32(want)), uint64(uint32(two))
		}
		var ok bool
		switch c.Op {
		case OpEQ:
			ok = v == want
		case OpNE:
			ok = v != want
		case OpLT:
			ok = v < want
		case OpLE:
			ok = v <= want
		case OpGT:
			ok = v > want
		case OpGE:
			ok = v >= want
		case OpMaskedEQ:
			ok = v&want == two
		}
		if !ok {
			return false
		}
	}
	return true
}

// edgeValues returns argument values around every constant the rules use,
// including high-word-only differences that a 32-bit compare would miss.
func edgeValues(cmps []condRule) []uint64 {
	vals := []uint64{0, 1, 0xffffffff, 1 << 32, 0xffffffff_ffffffff}
	for _, r := range cmps {
		for _, a := range r.args {
			for _, v := range []uint64{a.Value, a.ValueTwo} {
				vals = append(vals, v, v+1, v-1, v|1<<32, v^0xffffffff, v|0x80000000_00000000, v&^(v&-v))
			}
		}
	}
	return vals
}

type runStats struct {
	calls, executed, maxExec int
}

// proveProgram runs prog for every call number of every filter arch (plus
// gaps and foreign arches) and argument edge values, comparing with expect.
func proveProgram(t *testing.T, p *Profile, opts Options) runStats {
	t.Helper()
	prog, err := Compile(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := bpfsim.Check(prog.Filter); err != nil {
		t.Fatalf("kernel would reject the program: %v", err)
	}
	pl, err := p.resolve(opts.Env)
	if err != nil {
		t.Fatal(err)
	}
	if opts.MergeBlacklist {
		mergeBlacklist(pl, &Program{})
	}
	if opts.Ptrace == PtraceDeny {
		if err := applyPtracePolicy(pl, PtraceDeny, &Program{}); err != nil {
			t.Fatal(err)
		}
	}
	return proveProgramPlan(t, prog, pl, opts)
}

// proveProgramPlan checks prog against the resolved plan pl.
func proveProgramPlan(t *testing.T, prog *Program, pl *plan, opts Options) runStats {
	t.Helper()
	var st runStats
	for _, ap := range pl.arches {
		arch := ap.arch
		nrs := arch.Numbers()
		last := nrs[len(nrs)-1]
		reg := lastRegular(arch)
		extra := []uint32{last + 1, last + 100, reg + 1, reg + 50, arch.NrBase + 0x3fffffff&^arch.NrBase, 0xffffffff, arch.NrBase ^ syscalls.X32Bit}
		for _, nr := range append(nrs, extra...) {
			d := bpfsim.Data{Nr: nr, Arch: arch.Audit, IP: 0xdeadbeef}
			want := expect(pl, arch, nr, d.Args, opts)
			if (arch.Audit == syscalls.AuditX86_64) && (nr&syscalls.X32Bit != 0) != (arch.NrBase != 0) {
				want = otherHalf(pl, arch, nr, d.Args, opts)
			}
			r, err := bpfsim.Run(prog.Filter, d)
			if err != nil {
				t.Fatalf("%s nr %d: %v", arch.Name, nr, err)
			}
			if r.Action != want.Ret() {
				t.Fatalf("%s nr %#x: filter says %s, profile says %s", arch.Name, nr, ActionFromRet(r.Action), want)
			}
			if c := ap.calls[nr]; c != nil {
				conds, _ := c.outcome(pl.def)
				for _, v := range edgeValues(conds) {
					for i := 0; i < 6; i++ {
						var args [6]uint64
						args[i] = v
						d.Args = args
						want := expect(pl, arch, nr, args, opts)
						r, err := bpfsim.Run(prog.Filter, d)
						if err != nil || r.Action != want.Ret() {
							t.Fatalf("%s %s arg%d=%#x: filter says %s (%v), profile says %s", arch.Name, c.name, i, v, ActionFromRet(r.Action), err, want)
						}
					}
				}
				d.Args = [6]uint64{}
				if len(conds) > 0 {
					continue
				}
			}
			if want.Kind == Allow && !bpfsim.ConstAllow(prog.Filter, arch.Audit, nr) && nr < syscalls.X32Bit {
				t.Errorf("%s nr %d: argument-free ALLOW is not cacheable by the kernel", arch.Name, nr)
			}
			if r.ReadArgs || r.ReadIP {
				t.Errorf("%s nr %d: argument-free rule read arguments or ip", arch.Name, nr)
			}
			if _, known := arch.CallName(nr); known && want.Kind == Allow {
				st.calls++
				st.executed += r.Executed
				st.maxExec = max(st.maxExec, r.Executed)
			}
		}
		for _, foreign := range []uint32{syscalls.AuditAARCH64 ^ 1, 0} {
			r, err := bpfsim.Run(prog.Filter, bpfsim.Data{Nr: 0, Arch: foreign})
			if err != nil || r.Action != opts.BadArch.Ret() {
				t.Fatalf("foreign arch %#x: got %#x (%v), want bad-arch action", foreign, r.Action, err)
			}
		}
	}
	return st
}

// otherHalf is the expectation for an x86_64-audit number that belongs to
// the other ABI (x32 bit set on x86_64 or clear on x32): it is judged by
// that ABI's plan if the filter has it, else it is a foreign architecture.
func otherHalf(pl *plan, arch syscalls.Arch, nr uint32, args [6]uint64, opts Options) Action {
	want := "SCMP_ARCH_X86_64"
	if nr&syscalls.X32Bit != 0 {
		want = "SCMP_ARCH_X32"
	}
	for _, ap := range pl.arches {
		if ap.arch.Name == want {
			return expect(pl, ap.arch, nr, args, opts)
		}
	}
	return opts.BadArch
}
