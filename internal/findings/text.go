package findings

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// WriteText writes the report for people: findings grouped by section,
// worst first inside each section, then the one-line score.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("trustbox %s check %s: %s\n", r.Version, r.Kind, clean(r.Subject))
	section := ""
	for _, f := range bySection(r.Findings) {
		if f.Section != section {
			section = f.Section
			ew.printf("\n[%s]\n", section)
		}
		ew.printf("  %-5s %-26s %s (%s)\n", label(f.Level), f.ID, clean(f.Title), strings.Join(f.Requirements, ", "))
		ew.printf("        seen: %s", clean(f.Seen))
		if f.Where != "" {
			ew.printf(" [%s]", clean(f.Where))
		}
		ew.printf("\n")
		if f.Fix != "" {
			ew.printf("        fix:  %s\n", clean(f.Fix))
		}
	}
	ew.printf("\n%s\n", r.Score())
	return ew.err
}

// bySection groups findings by section in first-seen order, worst first.
func bySection(fs []Finding) []Finding {
	var order []string
	groups := map[string][]Finding{}
	for _, f := range fs {
		if _, ok := groups[f.Section]; !ok {
			order = append(order, f.Section)
		}
		groups[f.Section] = append(groups[f.Section], f)
	}
	out := make([]Finding, 0, len(fs))
	for _, s := range order {
		for _, l := range Levels {
			for _, f := range groups[s] {
				if f.Level == l {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

func label(l Level) string {
	switch l {
	case NotApplicable:
		return "N/A"
	case Error:
		return "ERROR"
	}
	return strings.ToUpper(string(l))
}

// clean makes untrusted text (file contents, config strings) safe for a
// terminal: control characters are shown escaped, never sent raw.
func clean(s string) string {
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
		if e.err != nil {
			e.err = fmt.Errorf("write report: %w", e.err)
		}
	}
}
