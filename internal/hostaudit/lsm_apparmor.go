package hostaudit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// ParseAppArmorProfiles counts the profiles of
// /sys/kernel/security/apparmor/profiles by mode ("name (enforce)").
func ParseAppArmorProfiles(s string) (map[string]int, error) {
	modes := map[string]int{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.LastIndex(line, " (")
		if i < 0 || !strings.HasSuffix(line, ")") {
			return nil, fmt.Errorf("profile line %q has no (mode)", truncate(line, 60))
		}
		modes[line[i+2:len(line)-1]]++
	}
	return modes, nil
}

func checkAppArmor(s *source) result {
	const en = "/sys/module/apparmor/parameters/enabled"
	const p = "/sys/kernel/security/apparmor/profiles"
	v, err := s.value(en)
	if missing(err) {
		return result{level: findings.NotApplicable, seen: "AppArmor is not built into the kernel", where: en}
	}
	if err != nil {
		return failed(en, err)
	}
	if v != "Y" {
		return result{level: findings.NotApplicable, seen: "AppArmor is built but disabled (enabled=" + v + ")", where: en}
	}
	t, err := s.text(p)
	if missing(err) {
		return result{level: findings.Warn, seen: "AppArmor is enabled but its profiles are unreadable (securityfs not mounted?)", where: p}
	}
	if err != nil {
		return failed(p, err)
	}
	modes, err := ParseAppArmorProfiles(t)
	if err != nil {
		return failed(p, err)
	}
	var parts []string
	for m, n := range modes {
		parts = append(parts, fmt.Sprintf("%d %s", n, m))
	}
	sort.Strings(parts)
	seen := "profiles: " + strings.Join(parts, ", ")
	if modes["enforce"] == 0 {
		return result{level: findings.Warn, seen: seen + " (none enforcing)", where: p}
	}
	return result{level: findings.Pass, seen: seen, where: p}
}

func checkLandlock(s *source) result {
	abi, err := s.probe.LandlockABI()
	if err == nil {
		lvl := findings.Pass
		seen := fmt.Sprintf("Landlock ABI %d", abi)
		if abi < 4 {
			lvl = findings.Warn
			seen += " (below 4: no TCP bind/connect rules)"
		}
		return result{level: lvl, seen: seen, where: "landlock_create_ruleset(2)"}
	}
	list, where, lerr := s.activeLSMs()
	if lerr != nil {
		return failed(where, lerr)
	}
	switch {
	case contains(list, "landlock"):
		return result{level: findings.Pass, seen: "landlock is in the active LSM list (ABI " + err.Error() + ")", where: where}
	case list == nil:
		return result{level: findings.Warn, seen: "cannot tell: " + err.Error() + "; LSM list unreadable", where: where}
	}
	return result{level: findings.Warn, seen: "landlock is not active (active: " + strings.Join(list, ",") + ")", where: where}
}

func checkBPFLSM(s *source) result {
	list, where, err := s.activeLSMs()
	if err != nil {
		return failed(where, err)
	}
	switch {
	case list == nil:
		return result{level: findings.Info, seen: "cannot tell: LSM list unreadable", where: where}
	case contains(list, "bpf"):
		return result{level: findings.Info, seen: "bpf is active; loading BPF-LSM programs may still be refused under lockdown", where: where}
	}
	return result{level: findings.Info, seen: "bpf is not in the active LSM list", where: where}
}
