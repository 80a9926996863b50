package hostaudit

import "strings"

// ParseCmdline splits a kernel command line into its parameters, stopping at
// "--" (what follows belongs to init). A bare flag maps to "".
func ParseCmdline(s string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(s) {
		if f == "--" {
			break
		}
		k, v, _ := strings.Cut(f, "=")
		out[k] = v
	}
	return out
}

// cmdline reads /proc/cmdline; a missing file reads as empty.
func (s *source) cmdline() (map[string]string, error) {
	t, err := s.text("/proc/cmdline")
	if missing(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseCmdline(t), nil
}
