package hostaudit

import (
	"strings"
)

// ParseLSMList parses /sys/kernel/security/lsm ("capability,landlock,...").
func ParseLSMList(s string) []string {
	var out []string
	for _, f := range strings.Split(strings.TrimSpace(s), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// activeLSMs tells which LSMs are active and where that was learned:
// securityfs first, then lsm_list_modules(2) on the live kernel. It returns
// a nil list (and the reason) when neither can tell.
func (s *source) activeLSMs() ([]string, string, error) {
	const p = "/sys/kernel/security/lsm"
	t, err := s.value(p)
	if err == nil {
		return ParseLSMList(t), p, nil
	}
	if !missing(err) {
		return nil, p, err
	}
	list, perr := s.probe.LSMs()
	if perr == nil {
		return list, "lsm_list_modules(2) (securityfs not mounted)", nil
	}
	return nil, p, nil
}

// securityfsMounted tells whether /sys/kernel/security is a mounted
// securityfs: from /proc/self/mounts when readable, else from whether the
// directory has entries.
func (s *source) securityfsMounted() (bool, string) {
	if t, err := s.text("/proc/self/mounts"); err == nil {
		for _, line := range strings.Split(t, "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[1] == "/sys/kernel/security" && f[2] == "securityfs" {
				return true, "/proc/self/mounts"
			}
		}
		return false, "/proc/self/mounts"
	}
	names, err := s.list("/sys/kernel/security")
	return err == nil && len(names) > 0, "/sys/kernel/security"
}
