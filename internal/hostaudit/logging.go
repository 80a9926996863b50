package hostaudit

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/trustbox/trustbox/internal/auditlog"

	"github.com/trustbox/trustbox/internal/findings"
)

// DefaultStateRoot is trustbox's default --root, which holds audit.log.
const DefaultStateRoot = "/run/trustbox"

// Implements R-HOST-1 and R-OPS-2: privileged operations are logged.
func init() {
	lazy(func() {
		register(
			check{hostRule("LOG-FACILITY", "logging", "an audit daemon records privileged operations",
				"R-HOST-1 asks that privileged operations and anonymous access are logged; auditd records them, journald/syslog keep the rest.",
				"apt-get install auditd && systemctl enable --now auditd (keep systemd-journald or rsyslog running too)", "R-HOST-1", "R-OPS-2"), checkLogFacility},
			check{hostRule("LOG-TRUSTBOX-AUDIT", "logging", "trustbox's own audit log is present and protected",
				"trustbox appends its security-relevant operations to a hash-chained log; it must be root-only.",
				"chown root:root and chmod 0600 the audit log; investigate any broken chain (trustbox audit verify)", "R-OPS-2", "R-HOST-1"), checkTrustboxLog},
		)
	})
}

// processes returns the command names (/proc/PID/comm) of running processes.
func (s *source) processes() (map[string]bool, error) {
	names, err := s.list("/proc")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, n := range names {
		if n == "" || n[0] < '0' || n[0] > '9' {
			continue
		}
		c, err := s.value("/proc/" + n + "/comm")
		if err != nil {
			continue // the process exited or is not ours to read
		}
		out[c] = true
	}
	return out, nil
}

func checkLogFacility(s *source) result {
	procs, err := s.processes()
	if missing(err) {
		return result{level: findings.Info, seen: "no /proc to list processes", where: "/proc"}
	}
	if err != nil {
		return failed("/proc", err)
	}
	var loggers []string
	for _, d := range []string{"systemd-journal", "rsyslogd", "syslog-ng", "syslogd"} {
		if procs[d] {
			loggers = append(loggers, d)
		}
	}
	switch {
	case procs["auditd"] || procs["go-audit"]:
		return result{level: findings.Pass, seen: "auditd running; also: " + orNone(strings.Join(loggers, ",")), where: "/proc/*/comm"}
	case len(loggers) > 0:
		return result{level: findings.Warn, seen: "no audit daemon; system logging by " + strings.Join(loggers, ","), where: "/proc/*/comm"}
	}
	seen := fmt.Sprintf("no auditd, journald or syslog daemon among %d processes", len(procs))
	if procs["kauditd"] {
		seen += "; kernel audit (kauditd) is on but without a daemon its records only reach the kernel log"
	}
	return result{level: findings.Fail, seen: seen, where: "/proc/*/comm"}
}

func checkTrustboxLog(s *source) result {
	logPath := path.Join(s.stateRoot, "audit.log")
	fi, err := s.lstat(logPath)
	if missing(err) {
		return result{level: findings.Info, seen: "no trustbox audit log yet (trustbox writes it when it runs containers)", where: logPath,
			fix: "nothing to do until trustbox runs containers; re-run this check then"}
	}
	if err != nil {
		return failed(logPath, err)
	}
	uid, _ := owner(fi)
	switch {
	case !fi.Mode().IsRegular():
		return result{level: findings.Fail, seen: "not a regular file: " + fi.Mode().String(), where: logPath}
	case fi.Mode().Perm()&0o022 != 0 || uid != 0:
		return result{level: findings.Fail, seen: fmt.Sprintf("mode %s uid %d: others can rewrite the log", fi.Mode().Perm(), uid), where: logPath}
	}
	resolved, err := s.resolve(logPath, true)
	if err != nil {
		return failed(logPath, err)
	}
	n, probs, err := auditlog.Open(filepath.Dir(filepath.Join(s.dir, resolved))).Verify()
	if err != nil {
		return failed(logPath, err)
	}
	if len(probs) > 0 {
		return result{level: findings.Fail, seen: fmt.Sprintf("%d of %d events fail verification; first: line %d: %s", len(probs), n, probs[0].Line, probs[0].Msg), where: logPath}
	}
	if fi.Mode().Perm()&0o004 != 0 {
		return result{level: findings.Warn, seen: fmt.Sprintf("%d events, chain intact, but mode %s: world-readable", n, fi.Mode().Perm()), where: logPath}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d events, hash chain intact, mode %s, root-owned", n, fi.Mode().Perm()), where: logPath}
}
