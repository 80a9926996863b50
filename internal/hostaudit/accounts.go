package hostaudit

import (
	"fmt"
	"strconv"
	"strings"
)

// passwdEntry is one line of /etc/passwd.
type passwdEntry struct {
	Name  string
	UID   int
	Shell string
}

// ParsePasswd parses /etc/passwd, rejecting malformed lines with their number.
func ParsePasswd(s string) ([]passwdEntry, error) {
	var out []passwdEntry
	for i, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 7 {
			return nil, fmt.Errorf("line %d: %d fields, want 7", i+1, len(f))
		}
		uid, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, fmt.Errorf("line %d: uid %q: %w", i+1, truncate(f[2], 20), err)
		}
		out = append(out, passwdEntry{Name: f[0], UID: uid, Shell: f[6]})
	}
	return out, nil
}

// ParseGroup parses /etc/group into group name -> members.
func ParseGroup(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for i, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: %d fields, want 4", i+1, len(f))
		}
		var members []string
		for _, m := range strings.Split(f[3], ",") {
			if m != "" {
				members = append(members, m)
			}
		}
		out[f[0]] = members
	}
	return out, nil
}

// ParseShadow returns the accounts of /etc/shadow whose password field is
// empty (login with no password).
func ParseShadow(s string) (empty []string, err error) {
	for i, line := range strings.Split(s, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: %d fields, want 9", i+1, len(f))
		}
		if f[1] == "" {
			empty = append(empty, f[0])
		}
	}
	return empty, nil
}

// loginShell reports whether a shell lets the account log in.
func loginShell(sh string) bool {
	switch {
	case sh == "", strings.HasSuffix(sh, "/nologin"), strings.HasSuffix(sh, "/false"), sh == "/bin/sync":
		return false
	}
	return true
}
