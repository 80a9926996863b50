package hostaudit

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KernelRelease is the branch of a release string such as "6.1.0-28-amd64".
func KernelRelease(rel string) (branch string, err error) {
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("release %q is not MAJOR.MINOR...", truncate(rel, 40))
	}
	major, err1 := strconv.Atoi(parts[0])
	minorDigits := parts[1]
	if i := strings.IndexFunc(minorDigits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorDigits = minorDigits[:i]
	}
	minor, err2 := strconv.Atoi(minorDigits)
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("release %q is not MAJOR.MINOR...", truncate(rel, 40))
	}
	return fmt.Sprintf("%d.%d", major, minor), nil
}

// Compiled on first use: every trustbox process links this package.
var (
	dateISO  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(\d{4}-\d{2}-\d{2})\b`) })
	dateUnix = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`\b([A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} [A-Z]+ \d{4})\b`)
	})
)

// KernelBuildDate finds the build date in /proc/version: Debian writes
// "(2025-01-02)", uname -v style kernels "Tue Jan  2 10:00:00 UTC 2024".
func KernelBuildDate(version string) (time.Time, bool) {
	if m := dateUnix().FindStringSubmatch(version); m != nil {
		if t, err := time.Parse("Mon Jan _2 15:04:05 MST 2006", strings.Join(strings.Fields(m[1]), " ")); err == nil {
			return t, true
		}
		if t, err := time.Parse("Mon Jan 2 15:04:05 MST 2006", strings.Join(strings.Fields(m[1]), " ")); err == nil {
			return t, true
		}
	}
	if m := dateISO().FindStringSubmatch(version); m != nil {
		if t, err := time.Parse("2006-01-02", m[1]); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ParseOSRelease parses /etc/os-release (KEY=value, values maybe quoted).
func ParseOSRelease(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not KEY=value", i+1, truncate(line, 40))
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `'"`)
		}
		out[k] = v
	}
	if out["ID"] == "" {
		return nil, fmt.Errorf("no ID= line")
	}
	return out, nil
}
