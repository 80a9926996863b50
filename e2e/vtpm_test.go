package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// R-TRUST-1/2/4/6: `run --vtpm` gives the container a vTPM from vtpmd, measured
// before its first instruction; the container sees the adapter socket and its
// launch event log read-only; the evidence verifies against a policy naming
// the rootfs digest; delete destroys the vTPM.
func TestVtpmAttachedContainer(t *testing.T) {
	e := newEnv(t)
	testutil.RequiresBinary(t, "swtpm")
	dir, err := os.MkdirTemp("/tmp", "tb-vtpm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o711); err != nil { // each swtpm runs as its own uid
		t.Fatal(err)
	}
	sock, ca := filepath.Join(dir, "vtpmd.sock"), filepath.Join(dir, "ca")
	daemon := exec.Command(e.bin, "--root", e.root, "vtpmd", "--dir", filepath.Join(dir, "vtpm"), "--ca-dir", ca, "--socket", sock, "--pool", "0")
	logf, _ := os.Create(filepath.Join(dir, "vtpmd.log"))
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := startTracked(daemon); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = daemon.Process.Kill(); _ = waitTracked(daemon) }()
	waitSocket(t, sock, daemon)

	b := e.bundle([]string{"sleep", "1000"})
	// The rootfs as handed to the runtime (create then adds mount points to it).
	tree, err := measure.TreeSHA256(filepath.Join(b, "rootfs"))
	if err != nil {
		t.Fatal(err)
	}
	e.must("run", "-d", "--vtpm", "unix:"+sock, "--bundle", b, "e2e-vtpm")
	defer e.run("delete", "-f", "e2e-vtpm")
	out := e.must("exec", "e2e-vtpm", "sh", "-c", "test -S /run/tpm/tpm.sock && echo socket; test -s /run/tpm/eventlog && echo eventlog; touch /run/tpm/x 2>/dev/null || echo read-only; env | grep -c TPM")
	for _, want := range []string{"socket", "eventlog", "read-only"} {
		if !strings.Contains(out, want) {
			t.Errorf("inside the container: %q lacks %s", out, want)
		}
	}
	evidence := e.must("attest", "e2e-vtpm", "--nonce", "0123456789abcdef", "--socket", sock)
	evFile := filepath.Join(dir, "evidence.json")
	if err := os.WriteFile(evFile, []byte(evidence), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadFile(filepath.Join(ca, "root.crt"))
	if err != nil {
		t.Fatal(err)
	}
	policy := func(image string) string {
		p, _ := json.Marshal(attestapi.Policy{Version: attestapi.PolicyVersion, TrustedRoots: []string{string(root)},
			AllowSoftwareRoot: true, AllowedImageDigests: []string{image}, ContainerID: "e2e-vtpm", RequiredProfile: "trustbox-baseline"})
		f := filepath.Join(dir, "policy-"+image[len(image)-6:]+".json")
		if err := os.WriteFile(f, p, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if r := e.run("verify", evFile, "--policy", policy("sha256:"+tree), "--nonce", "0123456789abcdef"); r.code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.run("verify", evFile, "--policy", policy("sha256:"+strings.Repeat("0", 64)), "--nonce", "0123456789abcdef"); r.code == 0 {
		t.Fatalf("evidence of another image passed: %s", r.stdout)
	}
	e.must("delete", "-f", "e2e-vtpm")
	if out := e.must("vtpm", "list", "--socket", sock); strings.Contains(out, "e2e-vtpm") {
		t.Fatalf("vTPM left after delete:\n%s", out)
	}
}
