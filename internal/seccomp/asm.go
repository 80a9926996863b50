package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// label names a position in the program; labelNext is the next instruction.
type label int

const labelNext label = -1

// ins is an instruction whose jump targets are still labels.
type ins struct {
	code   uint16
	k      uint32
	jt, jf label // conditional jumps; jt alone for BPF_JA
}

// asm collects instructions and binds labels; assemble resolves jumps and
// inserts a BPF_JA trampoline wherever a conditional target is beyond the
// 8-bit reach of jt/jf.
type asm struct {
	prog   []ins
	labels []int // label -> instruction index, -1 while unbound
}

func (a *asm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *asm) bind(l label) { a.labels[l] = len(a.prog) }

func (a *asm) stmt(code uint16, k uint32) { a.prog = append(a.prog, ins{code: code, k: k}) }

func (a *asm) jump(code uint16, k uint32, jt, jf label) {
	a.prog = append(a.prog, ins{code: code, k: k, jt: jt, jf: jf})
}

func (a *asm) ja(to label) { a.prog = append(a.prog, ins{code: unix.BPF_JMP | unix.BPF_JA, jt: to}) }

func (a *asm) ret(act Action) { a.stmt(unix.BPF_RET|unix.BPF_K, act.Ret()) }

func (a *asm) load(off uint32) { a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off) }

func isCond(code uint16) bool {
	return code&0x07 == unix.BPF_JMP && code != unix.BPF_JMP|unix.BPF_JA
}

// assemble returns the final program.
func (a *asm) assemble() ([]unix.SockFilter, error) {
	prog := append([]ins(nil), a.prog...)
	labels := append([]int(nil), a.labels...)
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("assemble: label %d never bound", i)
		}
	}
	for {
		far := -1
		for pc, in := range prog {
			if !isCond(in.code) {
				continue
			}
			for _, t := range []label{in.jt, in.jf} {
				if t != labelNext && labels[t]-pc-1 > 255 {
					far = pc
				}
			}
			if far >= 0 {
				break
			}
		}
		if far < 0 {
			break
		}
		// Route the far edge through a JA placed right after the jump.
		in := prog[far]
		tramp := ins{code: unix.BPF_JMP | unix.BPF_JA}
		l := label(len(labels))
		labels = append(labels, far+1)
		var near label
		if in.jt != labelNext && labels[in.jt]-far-1 > 255 {
			tramp.jt, in.jt = in.jt, l
			near = in.jf
		} else {
			tramp.jt, in.jf = in.jf, l
			near = in.jt
		}
		if near == labelNext {
			// the old next instruction is now one further on
			nl := label(len(labels))
			labels = append(labels, far+1)
			if in.jt == labelNext {
				in.jt = nl
			} else {
				in.jf = nl
			}
		}
		prog[far] = in
		prog = append(prog[:far+1], append([]ins{tramp}, prog[far+1:]...)...)
		for i := range labels {
			if labels[i] > far && label(i) != l {
				labels[i]++
			}
		}
	}
	out := make([]unix.SockFilter, len(prog))
	for pc, in := range prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		switch {
		case in.code == unix.BPF_JMP|unix.BPF_JA:
			f.K = uint32(labels[in.jt] - pc - 1)
		case isCond(in.code):
			f.Jt, f.Jf = offset(labels, in.jt, pc), offset(labels, in.jf, pc)
		}
		out[pc] = f
	}
	if len(out) > 4096 {
		return nil, fmt.Errorf("assemble: program has %d instructions, the kernel takes at most 4096", len(out))
	}
	return out, nil
}

func offset(labels []int, l label, pc int) uint8 {
	if l == labelNext {
		return 0
	}
	return uint8(labels[l] - pc - 1)
}
