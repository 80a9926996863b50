package findings

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// SARIF 2.1.0 (OASIS) output, so code-scanning tools and CI ingest reports.
// Every finding is a result: fail and warn are kind "fail" with level
// error and warning; info, pass, not-applicable and error are kinds
// informational, pass, notApplicable and review with level "none" (SARIF
// allows a level only on kind "fail"). Checks that could not decide are
// also listed as tool execution notifications.

const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifText      `json:"help"`
	Properties       map[string]any `json:"properties"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string    `json:"level"`
	Message    sarifText `json:"message"`
	Descriptor struct {
		ID string `json:"id"`
	} `json:"descriptor"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Kind       string          `json:"kind"`
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations,omitempty"`
	Properties map[string]any  `json:"properties"`
}

type sarifLocation struct {
	Physical *sarifPhysical `json:"physicalLocation,omitempty"`
	Logical  []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	Artifact struct {
		URI string `json:"uri"`
	} `json:"artifactLocation"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
}

// WriteSARIF writes the report as a SARIF 2.1.0 log with one run.
func WriteSARIF(w io.Writer, r *Report) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{
		Name: r.Tool, Version: r.Version,
		InformationURI: "https://github.com/trustbox/trustbox/blob/main/docs/check.md",
	}}, Results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: true}
	index := map[string]int{}
	for _, f := range r.Findings {
		i, ok := index[f.ID]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[f.ID] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(f.Rule))
		}
		kind, level := sarifKind(f.Level)
		msg := fmt.Sprintf("%s: %s (seen: %s)", f.Level, f.Title, f.Seen)
		if f.Fix != "" {
			msg += ". Fix: " + f.Fix
		}
		res := sarifResult{RuleID: f.ID, RuleIndex: i, Kind: kind, Level: level,
			Message:    sarifText{Text: msg},
			Properties: map[string]any{"trustboxLevel": f.Level, "requirements": f.Requirements, "seen": f.Seen, "section": f.Section}}
		if loc := sarifLocationOf(f.Where); loc != nil {
			res.Locations = []sarifLocation{*loc}
		}
		run.Results = append(run.Results, res)
		if f.Level == Error {
			n := sarifNotification{Level: "error", Message: sarifText{Text: f.ID + ": " + f.Seen}}
			n.Descriptor.ID = f.ID
			inv.Notifications = append(inv.Notifications, n)
		}
	}
	run.Invocations = []sarifInvocation{inv}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	return nil
}

func sarifRuleOf(r Rule) sarifRule {
	tags := append([]string{"security", r.Section}, r.Requirements...)
	return sarifRule{
		ID: r.ID, Name: ruleName(r.ID),
		ShortDescription: sarifText{Text: r.Title},
		FullDescription:  sarifText{Text: r.Rationale},
		Help:             sarifText{Text: "Requirements: " + strings.Join(r.Requirements, ", ") + ". Fix: " + r.Fix},
		Properties:       map[string]any{"tags": tags, "requirements": r.Requirements},
	}
}

// ruleName turns HARDEN-ASLR into HardenAslr (SARIF wants a PascalCase name).
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + strings.ToLower(part[1:]))
		}
	}
	return b.String()
}

func sarifKind(l Level) (kind, level string) {
	switch l {
	case Fail:
		return "fail", "error"
	case Warn:
		return "fail", "warning"
	case Info:
		return "informational", "none"
	case Pass:
		return "pass", "none"
	case NotApplicable:
		return "notApplicable", "none"
	}
	return "review", "none"
}

// sarifLocationOf maps Where ("/abs/file", "file#field" or a description)
// to a physical location for files and a logical one for fields.
func sarifLocationOf(where string) *sarifLocation {
	if where == "" {
		return nil
	}
	file, field, _ := strings.Cut(where, "#")
	loc := &sarifLocation{}
	switch {
	case strings.HasPrefix(file, "/"):
		loc.Physical = &sarifPhysical{}
		loc.Physical.Artifact.URI = (&url.URL{Scheme: "file", Path: file}).String()
	case strings.HasSuffix(file, ".json"):
		loc.Physical = &sarifPhysical{}
		loc.Physical.Artifact.URI = (&url.URL{Path: file}).String()
	default:
		field = where
	}
	if field != "" {
		loc.Logical = []sarifLogical{{FullyQualifiedName: field}}
	}
	return loc
}
