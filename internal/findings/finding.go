package findings

import (
	"fmt"
	"sort"
	"strings"
)

// Level is how a finding stands against its requirement.
type Level string

// The levels, from worst to best. Error means the check could not decide
// (a file was unreadable or malformed); the reason is in Seen.
const (
	Fail          Level = "fail"
	Error         Level = "error"
	Warn          Level = "warn"
	Info          Level = "info"
	Pass          Level = "pass"
	NotApplicable Level = "not-applicable"
)

// Levels lists every level in report order.
var Levels = []Level{Fail, Error, Warn, Info, Pass, NotApplicable}

// Rule is the static description of one check: what docs/check.md lists and
// what SARIF calls a reportingDescriptor.
type Rule struct {
	ID           string   `json:"id"`
	Section      string   `json:"section"`
	Title        string   `json:"title"`
	Requirements []string `json:"requirements"`
	Rationale    string   `json:"rationale"`
	Fix          string   `json:"-"`
}

// Finding is one check's verdict on one subject.
type Finding struct {
	Rule
	Level Level `json:"level"`
	// Seen is the evidence: the value read (or why it could not be read).
	Seen string `json:"seen"`
	// Where names the source of the evidence: a file path or a config field.
	Where string `json:"where"`
	// Fix is the remedy in one line; empty for pass and not-applicable.
	Fix string `json:"fix,omitempty"`
}

// Report is the outcome of one `trustbox check` run.
type Report struct {
	Tool     string    `json:"tool"`
	Version  string    `json:"version"`
	Kind     string    `json:"kind"`    // host, bundle or config
	Subject  string    `json:"subject"` // the root directory, bundle or file checked
	Findings []Finding `json:"findings"`
}

// Counts returns how many findings have each level.
func (r *Report) Counts() map[Level]int {
	c := map[Level]int{}
	for _, f := range r.Findings {
		c[f.Level]++
	}
	return c
}

// Score is the one-line summary: passed checks out of the decided ones.
func (r *Report) Score() string {
	c := r.Counts()
	decided := c[Pass] + c[Warn] + c[Fail]
	pct := 100
	if decided > 0 {
		pct = c[Pass] * 100 / decided
	}
	var parts []string
	for _, l := range Levels {
		if c[l] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[l], l))
		}
	}
	return fmt.Sprintf("score %d%% (%d/%d checks passed): %s", pct, c[Pass], decided, strings.Join(parts, ", "))
}

// Exit statuses of `trustbox check`, so that pipelines can gate on them.
const (
	ExitOK    = 0 // no fail and no error findings
	ExitFail  = 3 // at least one fail finding
	ExitError = 4 // no fail, but at least one check could not decide
)

// ExitCode returns the status a check run should exit with.
func (r *Report) ExitCode() int {
	c := r.Counts()
	switch {
	case c[Fail] > 0:
		return ExitFail
	case c[Error] > 0:
		return ExitError
	}
	return ExitOK
}

// Sort orders findings by section then ID, keeping the order stable.
func (r *Report) Sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Section != b.Section {
			return a.Section < b.Section
		}
		return a.ID < b.ID
	})
}
