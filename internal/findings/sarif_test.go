package findings

import (
	"bytes"
	"encoding/json"
	"testing"
)

type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string
				Rules []struct {
					ID               string
					ShortDescription struct{ Text string }
					Properties       struct{ Tags []string }
				}
			}
		}
		Invocations []struct {
			ExecutionSuccessful        bool
			ToolExecutionNotifications []struct{ Level string }
		}
		Results []struct {
			RuleID    string
			RuleIndex int
			Kind      string
			Level     string
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct{ URI string }
				}
				LogicalLocations []struct{ FullyQualifiedName string }
			}
		}
	}
}

// The SARIF log follows SARIF 2.1.0's rules that code-scanning tools
// enforce: ruleIndex points at the rule, a level other than "none" only on
// kind "fail", files as URIs.
func TestWriteSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var doc sarifDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || doc.Schema == "" || len(doc.Runs) != 1 {
		t.Fatalf("header: %+v", doc)
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "trustbox" || len(run.Tool.Driver.Rules) != 6 || len(run.Results) != 6 {
		t.Fatalf("run: %d rules, %d results", len(run.Tool.Driver.Rules), len(run.Results))
	}
	wantKind := map[string][2]string{
		"HARDEN-ASLR": {"pass", "none"}, "HARDEN-KPTR-RESTRICT": {"fail", "warning"}, "TRUST-TPM": {"fail", "error"},
		"LSM-SELINUX": {"notApplicable", "none"}, "BUNDLE-CAPS": {"review", "none"}, "LSM-BPF": {"informational", "none"},
	}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("%s: ruleIndex %d points at %s", r.RuleID, r.RuleIndex, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
		if w := wantKind[r.RuleID]; r.Kind != w[0] || r.Level != w[1] {
			t.Errorf("%s: kind %s level %s, want %v", r.RuleID, r.Kind, r.Level, w)
		}
		if r.Kind != "fail" && r.Level != "none" {
			t.Errorf("%s: level %s on kind %s", r.RuleID, r.Level, r.Kind)
		}
		if r.Message.Text == "" || len(r.Locations) != 1 {
			t.Errorf("%s: message or location missing", r.RuleID)
		}
	}
	if loc := run.Results[0].Locations[0]; loc.PhysicalLocation == nil || loc.PhysicalLocation.ArtifactLocation.URI != "file:///proc/sys/kernel/randomize_va_space" {
		t.Errorf("host file location: %+v", loc)
	}
	if loc := run.Results[4].Locations[0]; loc.PhysicalLocation.ArtifactLocation.URI != "config.json" || loc.LogicalLocations[0].FullyQualifiedName != "process.capabilities" {
		t.Errorf("bundle location: %+v", loc)
	}
	if loc := run.Results[5].Locations[0]; loc.PhysicalLocation != nil || loc.LogicalLocations[0].FullyQualifiedName != "lsm_list_modules(2)" {
		t.Errorf("probe location: %+v", loc)
	}
	if tags := run.Tool.Driver.Rules[2].Properties.Tags; len(tags) != 4 || tags[2] != "R-TRUST-1" {
		t.Errorf("rule tags %v", tags)
	}
	inv := run.Invocations[0]
	if !inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 1 || inv.ToolExecutionNotifications[0].Level != "error" {
		t.Errorf("invocation: %+v", inv)
	}
}
