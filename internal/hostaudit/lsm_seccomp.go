package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-c, R-LSM-d, R-LSM-a: the seccomp features trustbox's
// filters need, and who can reach the LSM control files.
func init() {
	lazy(func() {
		register(
			check{hostRule("LSM-SECCOMP", "lsm", "seccomp filters with kill, trap, errno and log actions are supported",
				"trustbox enforces its allow and deny lists (R-LSM-c, R-LSM-d) with seccomp-bpf; the trap/log modes prove a list final.",
				"use a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y", "R-LSM-c", "R-LSM-d"), checkSeccomp},
			check{hostRule("LSM-SECCOMP-NOTIFY", "lsm", "seccomp user notification is supported",
				"User notification lets a supervisor decide a blocked call and report escape attempts.",
				"use Linux 5.0+ with CONFIG_SECCOMP_FILTER=y", "R-LSM-d", "R-OPS-6"), checkSeccompNotify},
			check{hostRule("LSM-CONTROL-FILES", "lsm", "unprivileged users cannot change the LSMs' control files or policy",
				"If a container user could write LSM control files or policy directories, every LSM guarantee is void (R-LSM-a).",
				"chmod go-w the listed files and directories, owned by root", "R-LSM-a"), checkControlFiles},
		)
	})
}

func (s *source) seccompActions() ([]string, string, error) {
	const p = "/proc/sys/kernel/seccomp/actions_avail"
	t, err := s.value(p)
	if err != nil {
		return nil, p, err
	}
	return strings.Fields(t), p, nil
}

func checkSeccomp(s *source) result {
	acts, p, err := s.seccompActions()
	if missing(err) {
		return result{level: findings.Fail, seen: "no seccomp actions_avail: seccomp filtering is not available", where: p}
	}
	if err != nil {
		return failed(p, err)
	}
	var absent []string
	for _, a := range []string{"kill_process", "kill_thread", "trap", "errno", "log", "allow"} {
		if !contains(acts, a) {
			absent = append(absent, a)
		}
	}
	if len(absent) > 0 {
		return result{level: findings.Warn, seen: "missing actions: " + strings.Join(absent, ","), where: p}
	}
	return result{level: findings.Pass, seen: strings.Join(acts, " "), where: p}
}

func checkSeccompNotify(s *source) result {
	acts, p, err := s.seccompActions()
	if missing(err) {
		return result{level: findings.Fail, seen: "seccomp is not available", where: p}
	}
	if err != nil {
		return failed(p, err)
	}
	if contains(acts, "user_notif") {
		return result{level: findings.Pass, seen: "user_notif available", where: p}
	}
	return result{level: findings.Warn, seen: "user_notif not in " + strings.Join(acts, " "), where: p}
}

// lsmControl lists LSM control files and policy directories.
var lsmControl = []string{
	"/sys/kernel/security", "/sys/kernel/security/lsm", "/sys/kernel/security/lockdown",
	"/sys/kernel/security/apparmor/.load", "/sys/kernel/security/apparmor/.replace", "/sys/kernel/security/apparmor/.remove",
	"/sys/kernel/security/ima/policy", "/sys/fs/selinux/load", "/sys/fs/selinux/enforce",
	"/etc/apparmor.d", "/etc/selinux", "/etc/selinux/config", "/proc/sys/kernel/seccomp",
}

func checkControlFiles(s *source) result {
	var bad, seen []string
	for _, p := range lsmControl {
		fi, err := s.lstat(p)
		if missing(err) {
			continue
		}
		if err != nil {
			return failed(p, err)
		}
		seen = append(seen, p)
		uid, _ := owner(fi)
		if fi.Mode().Perm()&0o002 != 0 || uid != 0 {
			bad = append(bad, fmt.Sprintf("%s (%s, uid %d)", p, fi.Mode().Perm(), uid))
		}
	}
	if len(bad) > 0 {
		return result{level: findings.Fail, seen: "writable by others or not owned by root: " + strings.Join(bad, "; "), where: bad[0]}
	}
	if len(seen) == 0 {
		return result{level: findings.NotApplicable, seen: "no LSM control files present", where: "/sys/kernel/security"}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d control paths, all root-owned and not world-writable", len(seen)), where: seen[0]}
}
