package seccomp

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
	"golang.org/x/sys/unix"
)

// Filter flags of seccomp(2), by their OCI names.
var flagBits = map[string]uint{
	"SECCOMP_FILTER_FLAG_TSYNC":              unix.SECCOMP_FILTER_FLAG_TSYNC,
	"SECCOMP_FILTER_FLAG_LOG":                unix.SECCOMP_FILTER_FLAG_LOG,
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW":         unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 1 << 5,
}

// libseccomp's architecture names; trustbox compiles for those in package
// syscalls and ignores the rest, which cannot occur on this kernel.
var scmpArches = map[string]bool{
	"SCMP_ARCH_X86": true, "SCMP_ARCH_X86_64": true, "SCMP_ARCH_X32": true, "SCMP_ARCH_ARM": true,
	"SCMP_ARCH_AARCH64": true, "SCMP_ARCH_MIPS": true, "SCMP_ARCH_MIPS64": true, "SCMP_ARCH_MIPS64N32": true,
	"SCMP_ARCH_MIPSEL": true, "SCMP_ARCH_MIPSEL64": true, "SCMP_ARCH_MIPSEL64N32": true, "SCMP_ARCH_PPC": true,
	"SCMP_ARCH_PPC64": true, "SCMP_ARCH_PPC64LE": true, "SCMP_ARCH_S390": true, "SCMP_ARCH_S390X": true,
	"SCMP_ARCH_PARISC": true, "SCMP_ARCH_PARISC64": true, "SCMP_ARCH_RISCV64": true,
	"SCMP_ARCH_LOONGARCH64": true, "SCMP_ARCH_M68K": true, "SCMP_ARCH_SH": true, "SCMP_ARCH_SHEB": true,
}

func validArch(a string) bool { return scmpArches[strings.ToUpper(a)] }

func knownName(n string) bool { return syscalls.Known(n) }

// goArch maps libseccomp's native arch to the names Docker's includes and
// excludes use (moby compares them with runtime.GOARCH).
var goArch = map[string]string{
	"SCMP_ARCH_X86_64": "amd64", "SCMP_ARCH_AARCH64": "arm64", "SCMP_ARCH_X86": "386", "SCMP_ARCH_ARM": "arm",
}

// NativeArch is libseccomp's name for the architecture trustbox runs on.
func NativeArch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "SCMP_ARCH_AARCH64"
	case "386":
		return "SCMP_ARCH_X86"
	case "arm":
		return "SCMP_ARCH_ARM"
	}
	return "SCMP_ARCH_X86_64"
}

// HostKernel returns the running kernel's release ("6.18.0-...").
func HostKernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

type kver struct{ major, minor int }

// parseKernel reads "major.minor[...]" as Docker's minKernel does.
func parseKernel(s string) (kver, error) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return kver{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil || ma < 0 || mi < 0 {
		return kver{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
	}
	return kver{ma, mi}, nil
}

func (k kver) atLeast(o kver) bool {
	return k.major > o.major || k.major == o.major && k.minor >= o.minor
}

// Features lists what profiles may use, for the OCI features document:
// actions, argument operators, architecture names, the flags trustbox knows
// and those it applies. TSYNC is known but not applied: the filter goes on
// the thread that execs the workload, which inherits it (internal/initproc).
func Features() (actions, operators, archs, known, supported []string) {
	for _, n := range kindNames {
		actions = append(actions, n)
	}
	actions = append(actions, "SCMP_ACT_KILL") // libseccomp's alias of KILL_THREAD
	for n := range opNames {
		operators = append(operators, n)
	}
	for n := range scmpArches {
		archs = append(archs, n)
	}
	for n := range flagBits {
		known = append(known, n)
		if n != "SECCOMP_FILTER_FLAG_TSYNC" {
			supported = append(supported, n)
		}
	}
	for _, l := range [][]string{actions, operators, archs, known, supported} {
		sort.Strings(l)
	}
	return actions, operators, archs, known, supported
}
