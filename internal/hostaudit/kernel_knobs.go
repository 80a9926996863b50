package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-HOST-3: module loading, lockdown, user namespaces and
// speculative-execution mitigations, which no single sysctl decides.
func init() {
	lazy(func() {
		register(
			check{hostRule("HARDEN-MODULES", "hardening", "kernel module loading is disabled or signature-enforced",
				"Loading a module is loading arbitrary kernel code: it must be off or require a valid signature.",
				"sysctl -w kernel.modules_disabled=1 after boot, or boot with module.sig_enforce=1 (CONFIG_MODULE_SIG_FORCE=y)", "R-HOST-3", "R-TRUST-5"), checkModules},
			check{hostRule("HARDEN-LOCKDOWN", "hardening", "kernel lockdown is in integrity or confidentiality mode",
				"Lockdown stops root from modifying the running kernel (/dev/mem, kexec, unsigned modules, some BPF).",
				"boot with lockdown=integrity (or confidentiality), or enable Secure Boot on a distribution kernel", "R-HOST-3", "R-LSM-a"), checkLockdown},
			check{hostRule("HARDEN-USERNS", "hardening", "unprivileged users cannot create user namespaces",
				"Unprivileged user namespaces expose root-only kernel code (netfilter, mounts) to every user; most recent kernel LPEs start there.",
				"sysctl -w user.max_user_namespaces=0 (or kernel.unprivileged_userns_clone=0 on Debian); trustbox's rootless mode needs them, so weigh it", "R-HOST-3"), checkUserns},
			check{hostRule("HARDEN-TIOCSTI", "hardening", "TIOCSTI cannot push input into another terminal",
				"TIOCSTI lets a contained process inject commands into the terminal it shares with its parent (a classic container escape).",
				"sysctl -w dev.tty.legacy_tiocsti=0 (Linux 6.2+), or a kernel without CONFIG_LEGACY_TIOCSTI", "R-HOST-3", "R-LSM-g"), checkTIOCSTI},
			check{hostRule("HARDEN-MITIGATIONS", "hardening", "CPU vulnerability mitigations are not disabled on the command line",
				"mitigations=off turns off every Spectre/Meltdown-class defence at once.",
				"remove mitigations=off (and nopti, nospectre_v2, ...) from the kernel command line", "R-HOST-3"), checkMitigations},
		)
	})
}

func checkModules(s *source) result {
	const p = "/proc/sys/kernel/modules_disabled"
	cl, err := s.cmdline()
	if err != nil {
		return failed("/proc/cmdline", err)
	}
	v, err := s.value(p)
	switch {
	case err == nil && v == "1":
		return result{level: findings.Pass, seen: "modules_disabled=1", where: p}
	case err != nil && !missing(err):
		return failed(p, err)
	}
	k, kerr := s.kconfig()
	if kerr == nil && k != nil {
		if !k.on("MODULES") {
			return result{level: findings.Pass, seen: "the kernel is built without module support (CONFIG_MODULES is not set)", where: k.where}
		}
		if k.on("MODULE_SIG_FORCE") {
			return result{level: findings.Pass, seen: "CONFIG_MODULE_SIG_FORCE=y: only signed modules load", where: k.where}
		}
	}
	if cl["module.sig_enforce"] == "1" {
		return result{level: findings.Pass, seen: "module.sig_enforce=1: only signed modules load", where: "/proc/cmdline"}
	}
	if err != nil && kerr == nil && k == nil {
		return result{level: findings.Warn, seen: "no modules_disabled sysctl and no kernel config to tell whether modules are supported", where: p}
	}
	return result{level: findings.Warn, seen: fmt.Sprintf("modules_disabled=%s and signatures not enforced", orNone(v)), where: p}
}

func orNone(v string) string {
	if v == "" {
		return "absent"
	}
	return v
}

// ParseLockdown returns the bracketed mode of /sys/kernel/security/lockdown.
func ParseLockdown(s string) (string, error) {
	_, rest, ok := strings.Cut(s, "[")
	mode, _, ok2 := strings.Cut(rest, "]")
	if !ok || !ok2 || mode == "" || strings.Contains(mode, "[") {
		return "", fmt.Errorf("no [mode] in %q", truncate(s, 60))
	}
	return mode, nil
}

func checkLockdown(s *source) result {
	const p = "/sys/kernel/security/lockdown"
	grade := func(mode, seen, where string) result {
		if mode == "integrity" || mode == "confidentiality" {
			return result{level: findings.Pass, seen: seen, where: where}
		}
		return result{level: findings.Warn, seen: seen, where: where}
	}
	t, err := s.value(p)
	if err == nil {
		mode, err := ParseLockdown(t)
		if err != nil {
			return failed(p, err)
		}
		return grade(mode, "lockdown mode "+mode, p)
	}
	if !missing(err) {
		return failed(p, err)
	}
	cl, cerr := s.cmdline()
	if cerr != nil {
		return failed("/proc/cmdline", cerr)
	}
	if m, ok := cl["lockdown"]; ok {
		return grade(m, "lockdown="+m+" on the kernel command line ("+p+" unreadable: securityfs not mounted)", "/proc/cmdline")
	}
	lsms, _, _ := s.activeLSMs()
	if contains(lsms, "lockdown") {
		return result{level: findings.Warn, seen: "the lockdown LSM is active but its mode is unreadable: securityfs is not mounted at /sys/kernel/security, and no lockdown= is on the command line (default mode: none)", where: p,
			fix: "mount securityfs (mount -t securityfs securityfs /sys/kernel/security) to read the mode; boot with lockdown=integrity"}
	}
	return result{level: findings.Warn, seen: "no lockdown LSM found active", where: p}
}

func checkUserns(s *source) result {
	for _, q := range []struct{ path, off string }{
		{"/proc/sys/kernel/unprivileged_userns_clone", "0"},
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1"},
		{"/proc/sys/user/max_user_namespaces", "0"},
	} {
		v, err := s.value(q.path)
		if err != nil && !missing(err) {
			return failed(q.path, err)
		}
		if err == nil && v == q.off {
			return result{level: findings.Pass, seen: fmt.Sprintf("%s=%s", q.path, v), where: q.path}
		}
	}
	v, err := s.value("/proc/sys/user/max_user_namespaces")
	if missing(err) {
		return result{level: findings.Pass, seen: "no user namespace support (user/max_user_namespaces absent)", where: "/proc/sys/user/max_user_namespaces"}
	}
	return result{level: findings.Warn, seen: fmt.Sprintf("user.max_user_namespaces=%s and no unprivileged_userns_clone restriction", v), where: "/proc/sys/user/max_user_namespaces"}
}

func checkMitigations(s *source) result {
	cl, err := s.cmdline()
	if err != nil {
		return failed("/proc/cmdline", err)
	}
	var off []string
	if cl["mitigations"] == "off" {
		off = append(off, "mitigations=off")
	}
	for _, k := range []string{"nopti", "nospectre_v1", "nospectre_v2", "nospec_store_bypass_disable", "noibrs", "noibpb", "nosmap", "nosmep", "nokaslr", "mds=off", "l1tf=off"} {
		key, val, _ := strings.Cut(k, "=")
		if v, ok := cl[key]; ok && v == val {
			off = append(off, k)
		}
	}
	if len(off) > 0 {
		return result{level: findings.Fail, seen: strings.Join(off, " "), where: "/proc/cmdline"}
	}
	m := cl["mitigations"]
	if m == "" {
		m = "default"
	}
	return result{level: findings.Pass, seen: "mitigations=" + m + ", none turned off", where: "/proc/cmdline"}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkTIOCSTI(s *source) result {
	const p = "/proc/sys/dev/tty/legacy_tiocsti"
	v, err := s.value(p)
	switch {
	case err == nil && v == "0":
		return result{level: findings.Pass, seen: "legacy_tiocsti=0", where: p}
	case err == nil:
		return result{level: findings.Warn, seen: "legacy_tiocsti=" + v, where: p}
	case !missing(err):
		return failed(p, err)
	}
	return result{level: findings.Warn, seen: "no dev.tty.legacy_tiocsti: the kernel predates 6.2 and always allows TIOCSTI", where: p}
}
