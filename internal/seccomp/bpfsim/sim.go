package bpfsim

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Data is struct seccomp_data.
type Data struct {
	Nr   uint32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// Result is what one run of a filter did.
type Result struct {
	Action   uint32 // the filter's return value (SECCOMP_RET_*)
	Executed int    // instructions executed, including the return
	ReadArgs bool   // loaded an argument word
	ReadIP   bool   // loaded the instruction pointer
}

// word returns the 32-bit word at byte offset off of seccomp_data, as a
// little-endian kernel sees it (all architectures trustbox targets are LE).
func (d *Data) word(off uint32) (uint32, error) {
	switch {
	case off == 0:
		return d.Nr, nil
	case off == 4:
		return d.Arch, nil
	case off == 8:
		return uint32(d.IP), nil
	case off == 12:
		return uint32(d.IP >> 32), nil
	case off >= 16 && off < 64 && off%4 == 0:
		a := d.Args[(off-16)/8]
		if (off-16)%8 == 4 {
			return uint32(a >> 32), nil
		}
		return uint32(a), nil
	}
	return 0, fmt.Errorf("load of seccomp_data offset %d is out of range or unaligned", off)
}

// Run executes prog on d. It fails on anything the kernel's checker would
// reject at load time and on falling off the end.
func Run(prog []unix.SockFilter, d Data) (Result, error) {
	var a, x uint32
	var mem [16]uint32
	var r Result
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		r.Executed++
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			v, err := d.word(in.K)
			if err != nil {
				return r, fmt.Errorf("instruction %d: %w", pc, err)
			}
			r.ReadArgs = r.ReadArgs || in.K >= 16
			r.ReadIP = r.ReadIP || in.K == 8 || in.K == 12
			a = v
		case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
			a = 64
		case unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN:
			x = 64
		case unix.BPF_LD | unix.BPF_IMM:
			a = in.K
		case unix.BPF_LDX | unix.BPF_IMM:
			x = in.K
		case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX:
			if in.K >= 16 {
				return r, fmt.Errorf("instruction %d: scratch slot %d out of range", pc, in.K)
			}
			switch in.Code {
			case unix.BPF_LD | unix.BPF_MEM:
				a = mem[in.K]
			case unix.BPF_LDX | unix.BPF_MEM:
				x = mem[in.K]
			case unix.BPF_ST:
				mem[in.K] = a
			default:
				mem[in.K] = x
			}
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_RET | unix.BPF_K:
			r.Action = in.K
			return r, nil
		case unix.BPF_RET | unix.BPF_A:
			r.Action = a
			return r, nil
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		default:
			switch in.Code & 0x07 {
			case unix.BPF_ALU:
				v, err := alu(in, a, x)
				if err != nil {
					return r, fmt.Errorf("instruction %d: %w", pc, err)
				}
				a = v
			case unix.BPF_JMP:
				ok, err := cond(in, a, x)
				if err != nil {
					return r, fmt.Errorf("instruction %d: %w", pc, err)
				}
				if ok {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
			default:
				return r, fmt.Errorf("instruction %d: opcode %#x not allowed in seccomp", pc, in.Code)
			}
		}
	}
	return r, fmt.Errorf("program fell off its end without a return")
}

func operand(in unix.SockFilter, x uint32) uint32 {
	if in.Code&unix.BPF_X != 0 {
		return x
	}
	return in.K
}

func alu(in unix.SockFilter, a, x uint32) (uint32, error) {
	v := operand(in, x)
	switch in.Code & 0xf0 {
	case unix.BPF_ADD:
		return a + v, nil
	case unix.BPF_SUB:
		return a - v, nil
	case unix.BPF_MUL:
		return a * v, nil
	case unix.BPF_DIV, unix.BPF_MOD:
		if v == 0 {
			return 0, fmt.Errorf("division by zero")
		}
		if in.Code&0xf0 == unix.BPF_DIV {
			return a / v, nil
		}
		return a % v, nil
	case unix.BPF_OR:
		return a | v, nil
	case unix.BPF_AND:
		return a & v, nil
	case unix.BPF_XOR:
		return a ^ v, nil
	case unix.BPF_LSH:
		return a << (v & 31), nil
	case unix.BPF_RSH:
		return a >> (v & 31), nil
	case unix.BPF_NEG:
		return -a, nil
	}
	return 0, fmt.Errorf("ALU opcode %#x unknown", in.Code)
}

func cond(in unix.SockFilter, a, x uint32) (bool, error) {
	v := operand(in, x)
	switch in.Code & 0xf0 {
	case unix.BPF_JEQ:
		return a == v, nil
	case unix.BPF_JGT:
		return a > v, nil
	case unix.BPF_JGE:
		return a >= v, nil
	case unix.BPF_JSET:
		return a&v != 0, nil
	}
	return false, fmt.Errorf("jump opcode %#x unknown", in.Code)
}
