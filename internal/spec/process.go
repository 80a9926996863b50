package spec

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Rlimits maps OCI rlimit names to their resource numbers.
var Rlimits = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK": unix.RLIMIT_STACK,
}

func checkRlimits(s *specs.Spec, _ string) error {
	if s.Process == nil {
		return nil
	}
	seen := map[string]bool{}
	for i, r := range s.Process.Rlimits {
		f := fmt.Sprintf("process.rlimits[%d]", i)
		if _, ok := Rlimits[r.Type]; !ok {
			return fieldErr(f+".type", "unknown rlimit %q", r.Type)
		}
		if seen[r.Type] {
			return fieldErr(f+".type", "%s listed twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fieldErr(f, "soft limit %d exceeds hard limit %d", r.Soft, r.Hard)
		}
	}
	return nil
}

// Capabilities maps capability names (CAP_*) to numbers; the kernel's last is CAP_CHECKPOINT_RESTORE (40).
var Capabilities = map[string]int{}

func init() {
	names := []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
		"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
		"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
		"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
		"AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
		"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}
	for i, n := range names {
		Capabilities["CAP_"+n] = i
	}
}

// CapNumber returns a capability's number, accepting names with or without the CAP_ prefix.
func CapNumber(name string) (int, bool) {
	n := strings.ToUpper(name)
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	c, ok := Capabilities[n]
	return c, ok
}

func checkCapabilities(s *specs.Spec, _ string) error {
	if s.Process == nil || s.Process.Capabilities == nil {
		return nil
	}
	for _, set := range CapSets(s.Process.Capabilities) {
		for i, name := range set.List {
			if _, ok := Capabilities[name]; !ok {
				return fieldErr(fmt.Sprintf("process.capabilities.%s[%d]", set.Name, i), "unknown capability %q", name)
			}
		}
	}
	return nil
}

// CapSet is one named capability set of a process.
type CapSet struct {
	Name string
	List []string
}

// CapSets lists the five sets in a fixed order.
func CapSets(c *specs.LinuxCapabilities) []CapSet {
	if c == nil {
		return nil
	}
	return []CapSet{{"bounding", c.Bounding}, {"effective", c.Effective}, {"permitted", c.Permitted},
		{"inheritable", c.Inheritable}, {"ambient", c.Ambient}}
}

// checkConsoleSize: the terminal's window size is two 16-bit numbers.
func checkConsoleSize(s *specs.Spec, _ string) error {
	if p := s.Process; p != nil && p.ConsoleSize != nil && (p.ConsoleSize.Height > 65535 || p.ConsoleSize.Width > 65535) {
		return fieldErr("process.consoleSize", "%dx%d: a terminal holds at most 65535 rows and columns", p.ConsoleSize.Height, p.ConsoleSize.Width)
	}
	return nil
}
