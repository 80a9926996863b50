package findings

import "strings"

// Match reports whether a rule is selected by a pattern. A pattern selects
// a rule by its exact ID ("HARDEN-ASLR"), by an ID prefix ending at a dash
// ("HARDEN" selects every HARDEN-* rule), by its section ("hardening") or
// by a requirement it serves ("R-HOST-3"). Matching ignores case.
func Match(r Rule, pattern string) bool {
	p := strings.ToUpper(strings.TrimSpace(pattern))
	if p == "" {
		return false
	}
	id := strings.ToUpper(r.ID)
	if id == p || strings.HasPrefix(id, p+"-") || strings.EqualFold(r.Section, p) {
		return true
	}
	for _, req := range r.Requirements {
		if strings.ToUpper(req) == p {
			return true
		}
	}
	return false
}

// Select keeps the rules matched by some pattern of only (all when only is
// empty) and by no pattern of skip.
func Select(r Rule, only, skip []string) bool {
	for _, s := range skip {
		if Match(r, s) {
			return false
		}
	}
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if Match(r, o) {
			return true
		}
	}
	return false
}

// SplitList turns "A,B, C" into its non-empty items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
