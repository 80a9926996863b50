package seccomp

import "golang.org/x/sys/unix"

const (
	jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jgt = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	jge = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
)

// noWord says A holds nothing known.
const noWord = ^uint32(0)

// emitCmp falls through when the comparison holds and jumps to fail when it
// does not. On 64-bit arches the 64-bit value is compared exactly, high word
// first; 32-bit arches pass 32-bit arguments, so only the low word is
// compared (as libseccomp does). inA is the seccomp_data offset A already
// holds (noWord if unknown); the result is the offset A holds on every path
// to fail, or noWord.
func emitCmp(a *asm, arg Arg, bits int, fail label, inA uint32) uint32 {
	lo := uint32(16 + 8*arg.Index)
	hi := lo + 4
	vl, vh := uint32(arg.Value), uint32(arg.Value>>32)
	loadLo := func() {
		if inA != lo {
			a.load(lo)
		}
	}
	if arg.Op == OpMaskedEQ {
		dl, dh := uint32(arg.ValueTwo), uint32(arg.ValueTwo>>32)
		if bits == 64 && (vh != 0 || dh != 0) {
			a.load(hi)
			a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, vh)
			a.jump(jeq, dh, labelNext, fail)
			inA = noWord
		}
		loadLo()
		if vl != 0xffffffff {
			a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, vl)
		}
		a.jump(jeq, dl, labelNext, fail)
		if vl == 0xffffffff && (bits == 32 || vh == 0 && dh == 0) {
			return lo
		}
		return noWord
	}
	if bits == 32 {
		loadLo()
		emitLow(a, arg.Op, vl, labelNext, fail)
		return lo
	}
	ok := a.newLabel()
	a.load(hi)
	switch arg.Op {
	case OpEQ:
		a.jump(jeq, vh, labelNext, fail)
	case OpNE:
		a.jump(jeq, vh, labelNext, ok)
	case OpGT, OpGE:
		a.jump(jgt, vh, ok, labelNext)
		a.jump(jeq, vh, labelNext, fail)
	case OpLT, OpLE:
		a.jump(jgt, vh, fail, labelNext)
		a.jump(jeq, vh, labelNext, ok)
	}
	a.load(lo)
	emitLow(a, arg.Op, vl, ok, fail)
	a.bind(ok)
	return noWord
}

// emitLow compares A with v for op, jumping to yes or no.
func emitLow(a *asm, op Op, v uint32, yes, no label) {
	switch op {
	case OpEQ:
		a.jump(jeq, v, yes, no)
	case OpNE:
		a.jump(jeq, v, no, yes)
	case OpGT:
		a.jump(jgt, v, yes, no)
	case OpGE:
		a.jump(jge, v, yes, no)
	case OpLT:
		a.jump(jge, v, no, yes)
	case OpLE:
		a.jump(jgt, v, no, yes)
	}
}
