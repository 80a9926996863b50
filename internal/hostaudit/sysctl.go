package hostaudit

import (
	"fmt"
	"strconv"

	"github.com/trustbox/trustbox/internal/findings"
)

// sysctlRule grades one integer sysctl under /proc/sys.
type sysctlRule struct {
	rule  findings.Rule
	path  string // under /proc/sys
	grade func(v int) findings.Level
	// absent is the verdict when the file does not exist (feature not built).
	absent result
}

func atLeast(pass, warn int) func(int) findings.Level {
	return func(v int) findings.Level {
		switch {
		case v >= pass:
			return findings.Pass
		case v >= warn:
			return findings.Warn
		}
		return findings.Fail
	}
}

func nonZero(below findings.Level) func(int) findings.Level {
	return func(v int) findings.Level {
		if v != 0 {
			return findings.Pass
		}
		return below
	}
}

func hostRule(id, section, title, rationale, fix string, reqs ...string) findings.Rule {
	return findings.Rule{ID: id, Section: section, Title: title, Rationale: rationale, Fix: fix, Requirements: reqs}
}

// Implements R-HOST-3: memory-manipulation and code-reuse hardening knobs.
var sysctls = []sysctlRule{
	{hostRule("HARDEN-ASLR", "hardening", "address space layout randomisation is full (2)",
		"ASLR makes code-reuse and overflow exploits guess addresses; 2 also randomises the heap (brk).",
		"sysctl -w kernel.randomize_va_space=2 and persist it in /etc/sysctl.d/", "R-HOST-3"),
		"kernel/randomize_va_space", atLeast(2, 1), result{level: findings.Fail, seen: "no randomize_va_space: the kernel has no ASLR"}},
	{hostRule("HARDEN-KPTR-RESTRICT", "hardening", "kernel pointers are hidden from unprivileged users",
		"Leaked kernel addresses defeat KASLR, the basis of code-reuse exploits.",
		"sysctl -w kernel.kptr_restrict=1 (2 hides them from root too)", "R-HOST-3"),
		"kernel/kptr_restrict", nonZero(findings.Warn), result{level: findings.Warn, seen: "kptr_restrict absent"}},
	{hostRule("HARDEN-DMESG-RESTRICT", "hardening", "the kernel log is restricted to privileged users",
		"dmesg shows addresses and driver state useful to an attacker.",
		"sysctl -w kernel.dmesg_restrict=1", "R-HOST-3"),
		"kernel/dmesg_restrict", nonZero(findings.Warn), result{level: findings.Warn, seen: "dmesg_restrict absent"}},
	{hostRule("HARDEN-PERF-PARANOID", "hardening", "perf events are restricted (perf_event_paranoid >= 2)",
		"perf_event_open is a large kernel attack surface and a side channel.",
		"sysctl -w kernel.perf_event_paranoid=2 (Debian supports 3: deny all unprivileged use)", "R-HOST-3"),
		"kernel/perf_event_paranoid", atLeast(2, -100), result{level: findings.Pass, seen: "perf events not built into the kernel"}},
	{hostRule("HARDEN-UNPRIV-BPF", "hardening", "unprivileged eBPF is disabled",
		"Unprivileged bpf() has been the entry of many verifier exploits and Spectre gadgets.",
		"sysctl -w kernel.unprivileged_bpf_disabled=2 (1 makes it permanent until reboot)", "R-HOST-3"),
		"kernel/unprivileged_bpf_disabled", nonZero(findings.Fail), result{level: findings.Pass, seen: "bpf() not built into the kernel"}},
	{hostRule("HARDEN-PTRACE-SCOPE", "hardening", "Yama restricts ptrace to descendants (ptrace_scope >= 1)",
		"Unrestricted ptrace lets any process of a user rewrite another's memory and code.",
		"build the kernel with Yama (CONFIG_SECURITY_YAMA) and sysctl -w kernel.yama.ptrace_scope=1 (2 or 3 stricter)", "R-HOST-3", "R-LSM-e"),
		"kernel/yama/ptrace_scope", nonZero(findings.Warn), result{level: findings.Warn, seen: "no kernel/yama/ptrace_scope: Yama is not active, ptrace follows classic UID rules only"}},
	{hostRule("HARDEN-PROTECTED-SYMLINKS", "hardening", "symlinks in sticky world-writable directories are protected",
		"Blocks /tmp symlink races that turn a privileged write into arbitrary file overwrite.",
		"sysctl -w fs.protected_symlinks=1", "R-HOST-3"),
		"fs/protected_symlinks", nonZero(findings.Warn), result{level: findings.Warn, seen: "protected_symlinks absent"}},
	{hostRule("HARDEN-PROTECTED-HARDLINKS", "hardening", "hard links to files one cannot write are refused",
		"Blocks hard-link attacks on setuid programs and privileged writers.",
		"sysctl -w fs.protected_hardlinks=1", "R-HOST-3"),
		"fs/protected_hardlinks", nonZero(findings.Warn), result{level: findings.Warn, seen: "protected_hardlinks absent"}},
	{hostRule("HARDEN-PROTECTED-FIFOS", "hardening", "O_CREAT opens of others' FIFOs in sticky directories are refused",
		"Blocks data spoofing through FIFOs planted in /tmp.",
		"sysctl -w fs.protected_fifos=1 (2 also covers group-writable sticky directories)", "R-HOST-3"),
		"fs/protected_fifos", nonZero(findings.Warn), result{level: findings.Warn, seen: "protected_fifos absent"}},
	{hostRule("HARDEN-PROTECTED-REGULAR", "hardening", "O_CREAT opens of others' files in sticky directories are refused",
		"Blocks spoofing of regular files planted in /tmp.",
		"sysctl -w fs.protected_regular=1 (2 also covers group-writable sticky directories)", "R-HOST-3"),
		"fs/protected_regular", nonZero(findings.Warn), result{level: findings.Warn, seen: "protected_regular absent"}},
	{hostRule("HARDEN-KEXEC", "hardening", "kexec cannot replace the running kernel",
		"kexec loads unmeasured kernel code, bypassing lockdown and the chain of trust.",
		"sysctl -w kernel.kexec_load_disabled=1 (one-way until reboot)", "R-HOST-3", "R-TRUST-1"),
		"kernel/kexec_load_disabled", nonZero(findings.Warn), result{level: findings.Pass, seen: "kexec not built into the kernel"}},
	{hostRule("HARDEN-SYSRQ", "hardening", "the magic SysRq key is disabled or limited",
		"SysRq from a console or /proc/sysrq-trigger can reboot, kill all tasks and dump memory.",
		"sysctl -w kernel.sysrq=0 (or a bitmask without 8, 64 and 128: dumps, signals, reboot)", "R-HOST-2"),
		"kernel/sysrq", func(v int) findings.Level {
			if v == 1 || v&(8|64|128) != 0 {
				return findings.Warn
			}
			return findings.Pass
		}, result{level: findings.Pass, seen: "SysRq not built into the kernel"}},
}

func (r sysctlRule) check() check {
	p := "/proc/sys/" + r.path
	return check{Rule: r.rule, run: func(s *source) result {
		v, err := s.value(p)
		if missing(err) {
			a := r.absent
			a.where = p
			return a
		}
		if err != nil {
			return failed(p, err)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return failed(p, fmt.Errorf("not an integer: %q", v))
		}
		return result{level: r.grade(n), seen: v, where: p}
	}}
}

func init() {
	lazy(func() {
		for _, r := range sysctls {
			register(r.check())
		}
	})
}
