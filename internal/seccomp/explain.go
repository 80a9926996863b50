package seccomp

import (
	"fmt"
	"io"

	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
	"golang.org/x/sys/unix"
)

var auditNames = map[uint32]string{
	syscalls.AuditX86_64: "x86_64/x32", syscalls.AuditI386: "x86", syscalls.AuditAARCH64: "aarch64", syscalls.AuditARM: "arm",
}

// Explain writes the program as numbered, annotated instructions: which
// field is loaded, which arch or call a constant names, what each return does.
func Explain(w io.Writer, prog []unix.SockFilter) error {
	// Each architecture's section starts where its arch comparison jumps.
	sections := map[int]uint32{}
	for pc := 1; pc < len(prog) && prog[pc].Code == jeq && prog[0].K == 4; pc++ {
		sections[pc+1+int(prog[pc].Jt)] = prog[pc].K
	}
	var arch uint32
	var field uint32 // last loaded seccomp_data offset
	for pc, in := range prog {
		if a, ok := sections[pc]; ok {
			arch = a
		}
		var text, note string
		switch {
		case in.Code == unix.BPF_LD|unix.BPF_W|unix.BPF_ABS:
			field = in.K
			text = "ld  " + fieldName(in.K)
		case in.Code == unix.BPF_RET|unix.BPF_K:
			text = "ret " + ActionFromRet(in.K).String()
		case in.Code == unix.BPF_JMP|unix.BPF_JA:
			text = fmt.Sprintf("ja  %d", pc+1+int(in.K))
		case in.Code == unix.BPF_ALU|unix.BPF_AND|unix.BPF_K:
			text = fmt.Sprintf("and %#x", in.K)
		case isCond(in.Code):
			op := map[uint16]string{unix.BPF_JEQ: "jeq", unix.BPF_JGT: "jgt", unix.BPF_JGE: "jge", unix.BPF_JSET: "jset"}[in.Code&0xf0]
			text = fmt.Sprintf("%-4s %#x -> %d, %d", op, in.K, pc+1+int(in.Jt), pc+1+int(in.Jf))
			switch field {
			case 4:
				note = auditNames[in.K]
			case 0:
				note = callNote(arch, in.K)
			}
		default:
			text = fmt.Sprintf("code=%#x k=%#x jt=%d jf=%d", in.Code, in.K, in.Jt, in.Jf)
		}
		if note != "" {
			text = fmt.Sprintf("%-34s ; %s", text, note)
		}
		if _, err := fmt.Fprintf(w, "%4d  %s\n", pc, text); err != nil {
			return fmt.Errorf("explain: %w", err)
		}
	}
	return nil
}

func fieldName(off uint32) string {
	switch {
	case off == 0:
		return "nr"
	case off == 4:
		return "arch"
	case off == 8 || off == 12:
		return map[bool]string{true: "ip.lo", false: "ip.hi"}[off == 8]
	}
	i := (off - 16) / 8
	return fmt.Sprintf("args[%d].%s", i, map[bool]string{true: "lo", false: "hi"}[(off-16)%8 == 0])
}

func callNote(audit, nr uint32) string {
	for _, n := range syscalls.Arches() {
		a, _ := syscalls.LookupArch(n)
		if a.Audit != audit || (nr >= syscalls.X32Bit) != (a.NrBase != 0) {
			continue
		}
		if name, ok := a.CallName(nr); ok {
			return name
		}
	}
	return ""
}
