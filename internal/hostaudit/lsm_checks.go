package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-a, R-LSM-b, R-LSM-f, R-LSM-h: which kernel security
// modules guard containers here, and in what mode.
func init() {
	lazy(func() {
		register(
			check{hostRule("LSM-SECURITYFS", "lsm", "securityfs is mounted, so LSM state can be read and audited",
				"Without securityfs the LSM list, lockdown mode, AppArmor profiles, IMA and TPM event logs cannot be read.",
				"mount -t securityfs securityfs /sys/kernel/security (systemd does this at boot)", "R-LSM-h", "R-TRUST-1"), checkSecurityfs},
			check{hostRule("LSM-ACTIVE", "lsm", "a mandatory access control LSM is active",
				"SELinux, AppArmor, Smack or TOMOYO confine a container process even after an escape to the host's view; Landlock and seccomp only restrict what the runtime asks for.",
				"enable AppArmor (apparmor=1 security=apparmor) or SELinux (selinux=1, policy installed) on the kernel command line", "R-LSM-a", "R-LSM-f", "R-LSM-h"), checkActiveLSMs},
			check{hostRule("LSM-SELINUX", "lsm", "SELinux, where active, is enforcing",
				"A permissive SELinux logs but does not stop label violations (R-LSM-b).",
				"setenforce 1 and set SELINUX=enforcing in /etc/selinux/config", "R-LSM-b", "R-LSM-f"), checkSELinux},
			check{hostRule("LSM-APPARMOR", "lsm", "AppArmor, where active, has profiles in enforce mode",
				"AppArmor confines only processes whose profile is loaded and enforcing.",
				"load profiles with apparmor_parser -r and switch them to enforce (aa-enforce)", "R-LSM-f", "R-LSM-h"), checkAppArmor},
			check{hostRule("LSM-LANDLOCK", "lsm", "Landlock is available for trustbox's filesystem and network sandbox",
				"trustbox applies Landlock rulesets to containers; ABI 4+ adds TCP rules, 6+ scopes.",
				"use a kernel with CONFIG_SECURITY_LANDLOCK=y and landlock in its lsm= list", "R-LSM-f", "R-LSM-h", "R-LSM-g"), checkLandlock},
			check{hostRule("LSM-BPF", "lsm", "BPF-LSM status (optional)",
				"BPF-LSM allows runtime security programs; trustbox treats it as optional because lockdown can refuse loading them.",
				"add bpf to the lsm= list if you run BPF-LSM based monitoring", "R-LSM-h"), checkBPFLSM},
		)
	})
}

func checkSecurityfs(s *source) result {
	ok, where := s.securityfsMounted()
	if ok {
		return result{level: findings.Pass, seen: "securityfs mounted at /sys/kernel/security", where: where}
	}
	return result{level: findings.Warn, seen: "securityfs is not mounted at /sys/kernel/security: lockdown mode, AppArmor and IMA/TPM logs cannot be read", where: where}
}

var macLSMs = []string{"selinux", "apparmor", "smack", "tomoyo"}

func checkActiveLSMs(s *source) result {
	list, where, err := s.activeLSMs()
	if err != nil {
		return failed(where, err)
	}
	if list == nil {
		return result{level: findings.Warn, seen: "cannot tell which LSMs are active: securityfs not mounted and the kernel was not probed", where: where,
			fix: "mount securityfs to audit the LSMs"}
	}
	seen := "active: " + strings.Join(list, ",")
	for _, m := range macLSMs {
		if contains(list, m) {
			return result{level: findings.Pass, seen: seen, where: where}
		}
	}
	return result{level: findings.Warn, seen: seen + " (no SELinux, AppArmor, Smack or TOMOYO; containers rely on seccomp, Landlock and namespaces)", where: where}
}

func checkSELinux(s *source) result {
	const p = "/sys/fs/selinux/enforce"
	v, err := s.value(p)
	if missing(err) {
		return result{level: findings.NotApplicable, seen: "SELinux is not active (no /sys/fs/selinux)", where: p}
	}
	if err != nil {
		return failed(p, err)
	}
	switch v {
	case "1":
		return result{level: findings.Pass, seen: "enforcing", where: p}
	case "0":
		return result{level: findings.Warn, seen: "permissive: violations are logged, not denied", where: p}
	}
	return failed(p, fmt.Errorf("unexpected value %q", v))
}
