package bundlecheck

// This file is trustbox's interim lint of a bundle's linux.seccomp. When
// internal/seccomp exposes its own lint, these three checks should call it
// and keep their IDs.

import (
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-c, R-LSM-d, R-LSM-e.
func init() {
	lazy(func() {
		register(
			check{rule("BUNDLE-SECCOMP", "seccomp", "a seccomp filter denies by default",
				"An allow-by-default filter blocks only what someone thought of; R-LSM-d wants a whitelist that kills or errors on the rest.",
				`set linux.seccomp with "defaultAction": "SCMP_ACT_ERRNO" (or KILL_PROCESS) and an allow list; trustbox's default profile is one`, "R-LSM-c", "R-LSM-d"), checkSeccompDefault},
			check{rule("BUNDLE-SECCOMP-PTRACE", "seccomp", "the seccomp filter never allows ptrace",
				"A tracer can rewrite a traced process's system calls after the filter ran, bypassing it (R-LSM-e).",
				"remove ptrace (and process_vm_writev) from the allowed calls", "R-LSM-e"), checkSeccompPtrace},
			check{rule("BUNDLE-SECCOMP-DANGEROUS", "seccomp", "the seccomp filter blocks the high-risk administrative calls",
				"R-LSM-c's blacklist: loading modules, kexec, reboot, mount, bpf, keyring and handle-based opens have no place in a container.",
				"remove the listed calls from the allowed rules (or deny them explicitly when the default allows)", "R-LSM-c"), checkSeccompDangerous},
		)
	})
}

// allowing reports whether an action lets the call run.
func allowing(a specs.LinuxSeccompAction) bool {
	return a == specs.ActAllow || a == specs.ActLog
}

// allowed reports whether the filter lets the named call run, and whether
// only under argument conditions.
func allowed(sc *specs.LinuxSeccomp, name string) (ok, conditional bool) {
	decided := false
	for _, r := range sc.Syscalls {
		if !contains(r.Names, name) {
			continue
		}
		if allowing(r.Action) {
			ok, conditional = true, conditional || len(r.Args) > 0
			if len(r.Args) == 0 {
				return true, false
			}
		} else if len(r.Args) == 0 {
			decided = true
		}
	}
	if !ok && !decided && allowing(sc.DefaultAction) {
		return true, false
	}
	return ok, conditional
}

func checkSeccompDefault(s *subject) result {
	if s.spec.Linux == nil || s.spec.Linux.Seccomp == nil {
		return result{level: findings.Fail, seen: "no linux.seccomp: the config asks for no filter, so every system call is allowed unless the runtime adds its own default (runc adds none)", field: "linux.seccomp"}
	}
	sc := s.spec.Linux.Seccomp
	switch {
	case allowing(sc.DefaultAction):
		return result{level: findings.Fail, seen: "defaultAction " + string(sc.DefaultAction) + ": a blacklist, not a whitelist", field: "linux.seccomp.defaultAction"}
	case sc.DefaultAction == specs.ActTrace || sc.DefaultAction == specs.ActNotify:
		return result{level: findings.Warn, seen: "defaultAction " + string(sc.DefaultAction) + ": an outside process decides unlisted calls", field: "linux.seccomp.defaultAction"}
	}
	return result{level: findings.Pass, seen: "defaultAction " + string(sc.DefaultAction), field: "linux.seccomp.defaultAction"}
}

func checkSeccompPtrace(s *subject) result {
	if s.spec.Linux == nil || s.spec.Linux.Seccomp == nil {
		return result{level: findings.Fail, seen: "no seccomp filter, so ptrace is allowed", field: "linux.seccomp"}
	}
	var bad []string
	for _, n := range []string{"ptrace", "process_vm_writev"} {
		if ok, _ := allowed(s.spec.Linux.Seccomp, n); ok {
			bad = append(bad, n)
		}
	}
	if len(bad) > 0 {
		return result{level: findings.Fail, seen: "allowed: " + strings.Join(bad, ", "), field: "linux.seccomp.syscalls"}
	}
	return result{level: findings.Pass, seen: "ptrace and process_vm_writev are denied", field: "linux.seccomp.syscalls"}
}

// dangerousCalls is the R-LSM-c blacklist this lint insists on.
var dangerousCalls = []string{"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
	"mount", "umount2", "pivot_root", "swapon", "swapoff", "bpf", "open_by_handle_at", "add_key", "keyctl", "request_key",
	"iopl", "ioperm", "acct", "settimeofday", "clock_settime", "fsopen", "fsmount", "move_mount", "open_tree", "lookup_dcookie", "userfaultfd"}

func checkSeccompDangerous(s *subject) result {
	if s.spec.Linux == nil || s.spec.Linux.Seccomp == nil {
		return result{level: findings.Fail, seen: "no seccomp filter, so every high-risk call is allowed", field: "linux.seccomp"}
	}
	var bad, cond []string
	for _, n := range dangerousCalls {
		ok, c := allowed(s.spec.Linux.Seccomp, n)
		switch {
		case ok && c:
			cond = append(cond, n)
		case ok:
			bad = append(bad, n)
		}
	}
	sort.Strings(bad)
	switch {
	case len(bad) > 0:
		return result{level: findings.Fail, seen: "allowed: " + strings.Join(bad, ", "), field: "linux.seccomp.syscalls"}
	case len(cond) > 0:
		return result{level: findings.Warn, seen: "allowed under argument conditions: " + strings.Join(cond, ", "), field: "linux.seccomp.syscalls"}
	}
	return result{level: findings.Pass, seen: "none of the high-risk calls is allowed", field: "linux.seccomp.syscalls"}
}
