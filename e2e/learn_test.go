package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/seccomp"
)

// R-LSM-d learning mode: under a base profile far too small for the workload,
// `run --seccomp-learn` lets every call through, reports the new ones as
// audit events (R-OPS-6), and writes a whitelist; enforced, that whitelist
// runs the same workload and still refuses what the workload never did.
func TestSeccompLearnThenEnforce(t *testing.T) {
	e := newEnv(t)
	minimal, err := seccomp.Builtin("minimal")
	if err != nil {
		t.Fatal(err)
	}
	base, err := minimal.ToOCI(seccomp.Env{})
	if err != nil {
		t.Fatal(err)
	}
	work := "ls / > /dev/null && echo done"
	b := e.bundle([]string{"sh", "-c", work}, func(s *specs.Spec) { s.Linux.Seccomp = base })
	learned := filepath.Join(t.TempDir(), "learned.json")
	r := e.runIn(b, nil, "run", "--seccomp-learn", learned, "e2e-learn")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "done" {
		t.Fatalf("learning run: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	audit, _ := os.ReadFile(filepath.Join(e.root, "audit.log"))
	if n := strings.Count(string(audit), `"event":"seccomp-learn"`); n < 5 {
		t.Fatalf("only %d learned calls were audited", n)
	}
	data, err := os.ReadFile(learned)
	if err != nil {
		t.Fatal(err)
	}
	var prof specs.LinuxSeccomp
	if err := json.Unmarshal(data, &prof); err != nil || prof.DefaultAction == specs.ActAllow {
		t.Fatalf("learned profile: %v %s", err, data)
	}
	b2 := e.bundle([]string{"sh", "-c", work}, func(s *specs.Spec) { s.Linux.Seccomp = &prof })
	if r := e.runIn(b2, nil, "run", "e2e-enforce"); r.code != 0 || strings.TrimSpace(r.stdout) != "done" {
		t.Fatalf("enforcing the learned profile: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	b3 := e.bundle([]string{"sh", "-c", work + "; mkdir /tmp/new && echo mkdir-allowed"}, func(s *specs.Spec) { s.Linux.Seccomp = &prof })
	if r := e.runIn(b3, nil, "run", "e2e-enforce2"); strings.Contains(r.stdout, "mkdir-allowed") {
		t.Fatalf("a call the workload never made was allowed: %q", r.stdout)
	}
}

// `seccomp record --bundle` records an existing bundle's workload as a container.
func TestSeccompRecordBundle(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sh", "-c", "ls /bin > /dev/null; echo recorded"})
	out := filepath.Join(t.TempDir(), "rec.json")
	r := e.run("seccomp", "record", "--bundle", b, "--base", "minimal", "-o", out)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "recorded" {
		t.Fatalf("exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "getdents64") {
		t.Fatalf("the recording lacks the directory listing the workload did:\n%s", data)
	}
	if r := e.run("seccomp", "record", "--bundle", b, "--base", "nonexistent-profile", "-o", out); r.code == 0 {
		t.Fatal("a missing base profile was accepted")
	}
}
