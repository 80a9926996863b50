package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/seccomp"
	"github.com/trustbox/trustbox/internal/seccomp/bpfsim"
	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
)

// execStats counts executed instructions per call number over the filter's
// arches, for allowed calls and for all known calls.
type execStats struct {
	allowed, all            int
	allowedSum, allSum      int
	allowedMax, allMax      int
	cacheable, argFreeAllow int
}

func measure(prog []unix.SockFilter, arches []string) (execStats, error) {
	var s execStats
	for _, an := range arches {
		a, _ := syscalls.LookupArch(an)
		for _, nr := range a.Numbers() {
			r, err := bpfsim.Run(prog, bpfsim.Data{Nr: nr, Arch: a.Audit})
			if err != nil {
				return s, err
			}
			s.all++
			s.allSum += r.Executed
			s.allMax = max(s.allMax, r.Executed)
			if r.Action == 0x7fff0000 {
				s.allowed++
				s.allowedSum += r.Executed
				s.allowedMax = max(s.allowedMax, r.Executed)
				if !r.ReadArgs && nr < syscalls.X32Bit {
					s.argFreeAllow++
					if bpfsim.ConstAllow(prog, a.Audit, nr) {
						s.cacheable++
					}
				}
			}
		}
	}
	return s, nil
}

func (s execStats) row(name string, size int) string {
	cache := "-"
	if s.argFreeAllow > 0 {
		cache = fmt.Sprintf("%d/%d", s.cacheable, s.argFreeAllow)
	}
	return fmt.Sprintf("| %s | %d | %.2f | %d | %.2f | %d | %s |", name, size,
		float64(s.allowedSum)/float64(max(s.allowed, 1)), s.allowedMax,
		float64(s.allSum)/float64(max(s.all, 1)), s.allMax, cache)
}

// libseccompProgram compiles the Docker profile (resolved as Docker does)
// with Debian's libseccomp through the test helper.
func libseccompProgram(repo string, p *seccomp.Profile, env seccomp.Env, optimize int) ([]unix.SockFilter, error) {
	helper := filepath.Join(os.TempDir(), "tbx-libseccomp-helper")
	src := filepath.Join(repo, "internal/seccomp/testdata/libseccomp/helper.c")
	if out, err := exec.Command("gcc", "-O2", "-o", helper, src, "-lseccomp").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build libseccomp helper: %v: %s", err, out)
	}
	oci, err := p.ToOCI(env)
	if err != nil {
		return nil, err
	}
	tokens := map[string]uint32{"SCMP_ARCH_X86_64": syscalls.AuditX86_64, "SCMP_ARCH_X86": syscalls.AuditI386, "SCMP_ARCH_X32": 0x4000003e}
	ops := map[string]int{"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
	var in strings.Builder
	def := actionRet(string(oci.DefaultAction), oci.DefaultErrnoRet)
	fmt.Fprintf(&in, "default %d\nbadarch %d\noptimize %d\n", def, uint32(0x80000000), optimize)
	for _, a := range oci.Architectures {
		fmt.Fprintf(&in, "arch %d\n", tokens[string(a)])
	}
	for _, r := range oci.Syscalls {
		for _, n := range r.Names {
			fmt.Fprintf(&in, "rule %d %s %d", actionRet(string(r.Action), r.ErrnoRet), n, len(r.Args))
			for _, a := range r.Args {
				fmt.Fprintf(&in, " %d %d %d %d", a.Index, ops[string(a.Op)], a.Value, a.ValueTwo)
			}
			in.WriteString("\n")
		}
	}
	cmd := exec.Command(helper)
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("libseccomp helper: %w", err)
	}
	prog := make([]unix.SockFilter, len(out)/8)
	return prog, binary.Read(bytes.NewReader(out), binary.NativeEndian, prog)
}

func actionRet(name string, errno *uint) uint32 {
	switch name {
	case "SCMP_ACT_ALLOW":
		return 0x7fff0000
	case "SCMP_ACT_ERRNO":
		e := uint32(1)
		if errno != nil {
			e = uint32(*errno)
		}
		return 0x00050000 | e
	case "SCMP_ACT_KILL_PROCESS":
		return 0x80000000
	case "SCMP_ACT_LOG":
		return 0x7ffc0000
	}
	return 0
}
