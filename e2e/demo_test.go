package e2e

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// The main job: the demo runs the embedded inspector and every forbidden
// operation is blocked from inside (R-TRUST-5, R-LSM-c..g, R-OPS-2).
func TestDemo(t *testing.T) {
	e := newEnv(t)
	r := e.run("demo", "--json")
	if r.code != 0 {
		t.Fatalf("demo exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	var res struct {
		Inspect struct {
			UIDMap     string `json:"uidMap"`
			NoNewPrivs bool   `json:"noNewPrivs"`
			Seccomp    string `json:"seccomp"`
			Attempts   []struct {
				Op      string `json:"op"`
				Blocked bool   `json:"blocked"`
			} `json:"attempts"`
		} `json:"inspect"`
		Attest *struct {
			Verdict struct {
				Trusted bool `json:"trusted"`
			} `json:"verdict"`
			Skipped string `json:"skipped"`
		} `json:"attestation"`
		AuditOK   bool `json:"auditChainIntact"`
		Protected bool `json:"protected"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("demo --json: %v\n%s", err, r.stdout)
	}
	in := res.Inspect
	if !res.Protected || !res.AuditOK || !in.NoNewPrivs || in.Seccomp != "filter" || in.UIDMap != "0 100000 65536" {
		t.Fatalf("demo report: %+v", res)
	}
	if res.Attest == nil || !res.Attest.Verdict.Trusted {
		t.Fatalf("the demo container's measured launch did not verify: %+v", res.Attest)
	}
	if out, _ := exec.Command("pgrep", "-f", "swtpm.*trustbox-demo-").Output(); len(out) != 0 {
		t.Fatalf("swtpm left running after the demo: %s", out)
	}
	if len(in.Attempts) < 10 {
		t.Fatalf("only %d attempts", len(in.Attempts))
	}
	for _, a := range in.Attempts {
		if !a.Blocked {
			t.Errorf("%s was allowed", a.Op)
		}
	}
}
