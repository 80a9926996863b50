package hostaudit

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-HOST-1 (keep the host patched): pending security updates,
// as far as the package manager's local data tells without a network.
func init() {
	lazy(func() {
		register(check{hostRule("OS-UPDATES", "kernel", "no security update is pending",
			"An installed package older than the security archive's version is a known, published vulnerability (R-HOST-1).",
			"apt-get update && apt-get upgrade (or unattended-upgrades), then reboot if the kernel or libc changed", "R-HOST-1", "R-OPS-5"), checkUpdates})
	})
}

const aptLists = "/var/lib/apt/lists"

// maxListAge is how old apt's security metadata may be before the verdict
// is no longer trusted.
const maxListAge = 7 * 24 * time.Hour

func checkUpdates(s *source) result {
	const status = "/var/lib/dpkg/status"
	st, err := s.text(status)
	if missing(err) {
		return result{level: findings.NotApplicable, seen: "no dpkg database: not a Debian-family host (only apt/dpkg is read so far)", where: status}
	}
	if err != nil {
		return failed(status, err)
	}
	installed, err := ParseDebControl(st, true)
	if err != nil {
		return failed(status, err)
	}
	names, err := s.list(aptLists)
	if err != nil && !missing(err) {
		return failed(aptLists, err)
	}
	var plain, compressed []string
	var newest time.Time
	for _, n := range names {
		switch {
		case !strings.Contains(n, "security"):
		case strings.HasSuffix(n, "_Packages"):
			plain = append(plain, n)
		case strings.Contains(n, "_Packages."):
			compressed = append(compressed, n)
		case strings.HasSuffix(n, "Release"):
			if fi, err := s.stat(aptLists + "/" + n); err == nil && fi.ModTime().After(newest) {
				newest = fi.ModTime()
			}
		}
	}
	if len(plain)+len(compressed) == 0 {
		return result{level: findings.Warn, seen: "no security archive in apt's lists: security updates are not even known", where: aptLists,
			fix: "add the distribution's security suite to /etc/apt/sources.list(.d) and run apt-get update"}
	}
	age := ""
	if !newest.IsZero() {
		age = fmt.Sprintf("; security metadata %d days old", max(0, int(s.now.Sub(newest).Hours()/24)))
	}
	var pending []string
	if len(plain) > 0 {
		pending, err = s.pendingFromLists(installed, plain)
		if err != nil {
			return failed(aptLists, err)
		}
	} else {
		p, perr := s.probe.PendingSecurityUpdates()
		if perr != nil {
			return result{level: findings.Info, seen: fmt.Sprintf("apt's security lists are compressed (%s) and %v%s", compressed[0], perr, age), where: aptLists,
				fix: "run apt list --upgradable on the host"}
		}
		pending = p
	}
	return updatesVerdict(pending, len(installed), age, !newest.IsZero() && s.now.Sub(newest) > maxListAge)
}

func updatesVerdict(pending []string, installed int, age string, stale bool) result {
	sort.Strings(pending)
	switch {
	case len(pending) > 0:
		return result{level: findings.Fail, seen: fmt.Sprintf("%d of %d installed packages have security updates: %s%s", len(pending), installed, truncate(strings.Join(pending, ", "), 240), age), where: aptLists}
	case stale:
		return result{level: findings.Warn, seen: "no pending security update known, but" + age + ": run apt-get update", where: aptLists}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d installed packages, none behind the security archive%s", installed, age), where: aptLists}
}

// pendingFromLists compares installed versions with the security lists.
func (s *source) pendingFromLists(installed map[string]string, lists []string) ([]string, error) {
	var pending []string
	seen := map[string]bool{}
	for _, n := range lists {
		t, err := s.text(aptLists + "/" + n)
		if err != nil {
			return nil, err
		}
		avail, err := ParseDebControl(t, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		for pkg, v := range avail {
			if cur, ok := installed[pkg]; ok && !seen[pkg] && CompareDebVersions(v, cur) > 0 {
				seen[pkg] = true
				pending = append(pending, pkg+" "+cur+" -> "+v)
			}
		}
	}
	return pending, nil
}
