package bpfsim

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// RetAllow is SECCOMP_RET_ALLOW.
const RetAllow = 0x7fff0000

// ConstAllow mirrors the kernel's seccomp_is_const_allow (kernel/seccomp.c):
// with only arch and nr known, it reports whether the filter surely returns
// ALLOW. Calls for which this holds skip the filter through the per-arch
// action cache. Any load of ip or args, or any other opcode, makes it false.
func ConstAllow(prog []unix.SockFilter, arch, nr uint32) bool {
	var reg uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case 0:
				reg = nr
			case 4:
				reg = arch
			default:
				return false
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K == RetAllow
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var ok bool
			switch in.Code & 0xf0 {
			case unix.BPF_JEQ:
				ok = reg == in.K
			case unix.BPF_JGE:
				ok = reg >= in.K
			case unix.BPF_JGT:
				ok = reg > in.K
			default:
				ok = reg&in.K != 0
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			reg &= in.K
		default:
			return false
		}
	}
	return false
}

// Check applies the load-time rules of the kernel's seccomp_check_filter and
// sk_chk_filter: length, jump targets in range, aligned seccomp_data loads,
// and a final return.
func Check(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > 4096 {
		return fmt.Errorf("program has %d instructions, want 1..4096", len(prog))
	}
	for pc, in := range prog {
		switch {
		case in.Code == unix.BPF_JMP|unix.BPF_JA:
			if pc+1+int(in.K) >= len(prog) {
				return fmt.Errorf("instruction %d: jump past the end", pc)
			}
		case in.Code&0x07 == unix.BPF_JMP:
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				return fmt.Errorf("instruction %d: conditional jump past the end", pc)
			}
		case in.Code == unix.BPF_LD|unix.BPF_W|unix.BPF_ABS:
			if in.K >= 64 || in.K%4 != 0 {
				return fmt.Errorf("instruction %d: load of offset %d", pc, in.K)
			}
		}
	}
	if last := prog[len(prog)-1]; last.Code&0x07 != unix.BPF_RET {
		return fmt.Errorf("program does not end with a return")
	}
	return nil
}
