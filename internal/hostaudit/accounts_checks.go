package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-HOST-2: minimal user and administrator accounts and groups.
func init() {
	lazy(func() {
		register(
			check{hostRule("ACCOUNT-UID0", "accounts", "root is the only account with UID 0",
				"A second UID 0 account is an unaudited administrator, often a backdoor.",
				"remove the extra UID 0 accounts or give them their own UID (usermod -u)", "R-HOST-2"), checkUID0},
			check{hostRule("ACCOUNT-EMPTY-PASSWORD", "accounts", "no account has an empty password",
				"An empty password lets anyone log in on any interface that asks for one.",
				"passwd -l ACCOUNT (lock it) or set a password", "R-HOST-2", "R-OPS-1"), checkEmptyPasswords},
			check{hostRule("ACCOUNT-LOGIN-SHELLS", "accounts", "few accounts have a login shell",
				"Every account with a shell is a way in; service accounts should use nologin.",
				"usermod -s /usr/sbin/nologin for service accounts", "R-HOST-2"), checkLoginShells},
			check{hostRule("ACCOUNT-ADMIN-GROUPS", "accounts", "membership of admin and root-equivalent groups is minimal",
				"Members of docker, lxd or disk are root in all but name; sudo/wheel members are administrators.",
				"gpasswd -d USER GROUP for members who do not need it; use trustbox rootless instead of the docker group", "R-HOST-2", "R-LSM-a"), checkAdminGroups},
		)
	})
}

func (s *source) passwd() ([]passwdEntry, result, bool) {
	const p = "/etc/passwd"
	t, err := s.text(p)
	if err != nil {
		if missing(err) {
			return nil, result{level: findings.NotApplicable, seen: "no /etc/passwd", where: p}, false
		}
		return nil, failed(p, err), false
	}
	es, err := ParsePasswd(t)
	if err != nil {
		return nil, failed(p, err), false
	}
	return es, result{}, true
}

func checkUID0(s *source) result {
	es, r, ok := s.passwd()
	if !ok {
		return r
	}
	var extra []string
	for _, e := range es {
		if e.UID == 0 && e.Name != "root" {
			extra = append(extra, e.Name)
		}
	}
	if len(extra) > 0 {
		return result{level: findings.Fail, seen: "UID 0 accounts besides root: " + strings.Join(extra, ", "), where: "/etc/passwd"}
	}
	return result{level: findings.Pass, seen: "only root has UID 0", where: "/etc/passwd"}
}

func checkEmptyPasswords(s *source) result {
	const p = "/etc/shadow"
	t, err := s.text(p)
	if missing(err) {
		return result{level: findings.NotApplicable, seen: "no /etc/shadow", where: p}
	}
	if err != nil {
		return failed(p, err)
	}
	empty, err := ParseShadow(t)
	if err != nil {
		return failed(p, err)
	}
	if len(empty) > 0 {
		return result{level: findings.Fail, seen: "empty password: " + strings.Join(empty, ", "), where: p}
	}
	return result{level: findings.Pass, seen: "every account has a password hash or is locked", where: p}
}

func checkLoginShells(s *source) result {
	es, r, ok := s.passwd()
	if !ok {
		return r
	}
	var names []string
	for _, e := range es {
		if loginShell(e.Shell) {
			names = append(names, e.Name)
		}
	}
	seen := fmt.Sprintf("%d of %d accounts have a login shell: %s", len(names), len(es), truncate(strings.Join(names, ", "), 200))
	if len(names) > 3 {
		return result{level: findings.Warn, seen: seen, where: "/etc/passwd"}
	}
	return result{level: findings.Info, seen: seen, where: "/etc/passwd"}
}

// rootEquivalent groups grant root through a daemon or raw devices.
var rootEquivalent = []string{"docker", "lxd", "disk", "podman", "containerd"}

func checkAdminGroups(s *source) result {
	const p = "/etc/group"
	t, err := s.text(p)
	if missing(err) {
		return result{level: findings.NotApplicable, seen: "no /etc/group", where: p}
	}
	if err != nil {
		return failed(p, err)
	}
	groups, err := ParseGroup(t)
	if err != nil {
		return failed(p, err)
	}
	var risky, admins []string
	for _, g := range rootEquivalent {
		if m := groups[g]; len(m) > 0 {
			risky = append(risky, g+": "+strings.Join(m, ","))
		}
	}
	for _, g := range []string{"sudo", "wheel", "admin", "adm"} {
		if m := groups[g]; len(m) > 0 {
			admins = append(admins, g+": "+strings.Join(m, ","))
		}
	}
	switch {
	case len(risky) > 0:
		return result{level: findings.Warn, seen: "root-equivalent group members: " + strings.Join(append(risky, admins...), "; "), where: p}
	case len(admins) > 0:
		return result{level: findings.Info, seen: "administrators: " + strings.Join(admins, "; "), where: p}
	}
	return result{level: findings.Pass, seen: "no members in sudo, wheel, admin, adm, docker, lxd, disk", where: p}
}
