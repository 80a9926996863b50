package bundlecheck

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
	"github.com/trustbox/trustbox/internal/seccomp"
)

// Implements R-LSM-c, R-LSM-d, R-LSM-e, R-LSM-h: the seccomp subsystem's own
// lint (the one `trustbox seccomp lint` runs) applied to the bundle's filter:
// profiles the compiler refuses, shadowed rules, arguments never checked
// where they matter (clone and unshare flags, socket families, personality).
func init() {
	lazy(func() {
		register(check{rule("BUNDLE-SECCOMP-LINT", "seccomp", "the seccomp profile compiles and trustbox's seccomp lint finds no fault",
			"The seccomp subsystem knows what the simple checks cannot: rules shadowed by earlier ones, dangerous calls allowed without their arguments checked, profiles the compiler refuses.",
			"run `trustbox seccomp lint` on the profile and fix each finding it prints", "R-LSM-c", "R-LSM-d", "R-LSM-e", "R-LSM-h"), checkSeccompLint})
	})
}

func checkSeccompLint(s *subject) result {
	if s.spec.Linux == nil || s.spec.Linux.Seccomp == nil {
		return result{level: findings.NotApplicable, seen: "no linux.seccomp to lint (see BUNDLE-SECCOMP)", field: "linux.seccomp"}
	}
	p, err := seccomp.FromOCI(s.spec.Linux.Seccomp)
	if err != nil {
		return result{level: findings.Fail, seen: "the profile does not compile: " + err.Error(), field: "linux.seccomp"}
	}
	var errs, warns []string
	for _, f := range seccomp.Lint(p) {
		switch f.Severity {
		case "error":
			errs = append(errs, f.String())
		case "warning":
			warns = append(warns, f.String())
		}
	}
	switch {
	case len(errs) > 0:
		return result{level: findings.Fail, seen: summarize(errs, warns), field: "linux.seccomp"}
	case len(warns) > 0:
		return result{level: findings.Warn, seen: summarize(errs, warns), field: "linux.seccomp"}
	}
	return result{level: findings.Pass, seen: "no lint findings", field: "linux.seccomp"}
}

func summarize(errs, warns []string) string {
	all := append(append([]string{}, errs...), warns...)
	more := ""
	if len(all) > 5 {
		more = fmt.Sprintf(" (and %d more)", len(all)-5)
		all = all[:5]
	}
	return fmt.Sprintf("%d errors, %d warnings: %s%s", len(errs), len(warns), strings.Join(all, "; "), more)
}
