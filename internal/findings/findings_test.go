package findings

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func sample() *Report {
	r := func(id, sec string, reqs ...string) Rule {
		return Rule{ID: id, Section: sec, Title: "title of " + id, Requirements: reqs, Rationale: "why", Fix: "do it"}
	}
	return &Report{Tool: "trustbox", Version: "0.1.0", Kind: "host", Subject: "/", Findings: []Finding{
		{Rule: r("HARDEN-ASLR", "hardening", "R-HOST-3"), Level: Pass, Seen: "2", Where: "/proc/sys/kernel/randomize_va_space"},
		{Rule: r("HARDEN-KPTR-RESTRICT", "hardening", "R-HOST-3"), Level: Warn, Seen: "0", Where: "/proc/sys/kernel/kptr_restrict", Fix: "sysctl"},
		{Rule: r("TRUST-TPM", "trust", "R-TRUST-1", "R-TRUST-2"), Level: Fail, Seen: "no TPM\x1b[31m", Where: "/sys/class/tpm", Fix: "enable"},
		{Rule: r("LSM-SELINUX", "lsm", "R-LSM-b"), Level: NotApplicable, Seen: "absent", Where: "/sys/fs/selinux/enforce"},
		{Rule: r("BUNDLE-CAPS", "privileges", "R-LSM-a"), Level: Error, Seen: "unreadable", Where: "config.json#process.capabilities", Fix: "fix it"},
		{Rule: r("LSM-BPF", "lsm", "R-LSM-h"), Level: Info, Seen: "bpf active", Where: "lsm_list_modules(2)"},
	}}
}

func TestMatchAndSelect(t *testing.T) {
	rule := Rule{ID: "HARDEN-PROTECTED-FIFOS", Section: "hardening", Requirements: []string{"R-HOST-3"}}
	tests := []struct {
		only, skip []string
		want       bool
	}{
		{nil, nil, true},
		{[]string{"HARDEN-PROTECTED-FIFOS"}, nil, true},
		{[]string{"harden-protected-fifos"}, nil, true},
		{[]string{"HARDEN"}, nil, true},
		{[]string{"HARDEN-PROTECTED"}, nil, true},
		{[]string{"HARD"}, nil, false}, // prefixes end at a dash
		{[]string{"hardening"}, nil, true},
		{[]string{"R-HOST-3"}, nil, true},
		{[]string{"R-HOST-1"}, nil, false},
		{[]string{"LSM", "R-HOST-3"}, nil, true},
		{nil, []string{"HARDEN"}, false},
		{[]string{"R-HOST-3"}, []string{"HARDEN-PROTECTED-FIFOS"}, false},
		{[]string{""}, nil, false},
	}
	for _, tt := range tests {
		if got := Select(rule, tt.only, tt.skip); got != tt.want {
			t.Errorf("Select(only=%q, skip=%q) = %v, want %v", tt.only, tt.skip, got, tt.want)
		}
	}
	if got := SplitList(" A, ,B,"); len(got) != 2 || got[1] != "B" {
		t.Errorf("SplitList = %q", got)
	}
}

// Pipelines gate on the exit code: 3 for any fail, else 4 for any check
// that could not decide, else 0.
func TestExitCodeAndScore(t *testing.T) {
	tests := []struct {
		levels []Level
		code   int
		score  string
	}{
		{[]Level{Pass, Pass, NotApplicable}, ExitOK, "score 100% (2/2 checks passed)"},
		{[]Level{Pass, Warn, Info}, ExitOK, "score 50% (1/2 checks passed)"},
		{[]Level{Pass, Error}, ExitError, "score 100% (1/1 checks passed)"},
		{[]Level{Fail, Error, Pass, Pass}, ExitFail, "score 66% (2/3 checks passed)"},
		{nil, ExitOK, "score 100% (0/0 checks passed)"},
	}
	for _, tt := range tests {
		r := &Report{}
		for _, l := range tt.levels {
			r.Findings = append(r.Findings, Finding{Level: l})
		}
		if r.ExitCode() != tt.code || !strings.HasPrefix(r.Score(), tt.score) {
			t.Errorf("%v: exit %d score %q, want %d %q", tt.levels, r.ExitCode(), r.Score(), tt.code, tt.score)
		}
	}
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, sample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "\x1b") {
		t.Error("a terminal escape from the evidence reached the output")
	}
	for _, want := range []string{"[hardening]", "[trust]", "WARN  HARDEN-KPTR-RESTRICT", "fix:  sysctl", "(R-TRUST-1, R-TRUST-2)", "N/A   LSM-SELINUX", "ERROR BUNDLE-CAPS"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	// Worst first within a section; the score is the last line.
	if strings.Index(out, "HARDEN-KPTR-RESTRICT") > strings.Index(out, "HARDEN-ASLR") {
		t.Error("warn listed after pass within a section")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "score ") {
		t.Errorf("last line %q is not the score", lines[len(lines)-1])
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample(), "json"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SchemaVersion int
		Summary       struct {
			ExitCode int
			Counts   map[string]int
		}
		Report struct {
			Findings []map[string]any
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != JSONSchemaVersion || doc.Summary.ExitCode != ExitFail || doc.Summary.Counts["fail"] != 1 {
		t.Errorf("summary: %+v", doc)
	}
	f := doc.Report.Findings[2]
	for _, k := range []string{"id", "section", "title", "requirements", "rationale", "level", "seen", "where", "fix"} {
		if _, ok := f[k]; !ok {
			t.Errorf("JSON finding lacks %q: %v", k, f)
		}
	}
	if err := Write(&b, sample(), "xml"); err == nil {
		t.Error("unknown format accepted")
	}
}
