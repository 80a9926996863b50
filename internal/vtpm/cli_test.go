package vtpm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// daemonProc is `trustbox vtpmd` running as its own process.
type daemonProc struct {
	cmd    *exec.Cmd
	sock   string
	stderr bytes.Buffer
}

func runVtpmd(t *testing.T, bin, dir, ca, sock string) *daemonProc {
	t.Helper()
	d := &daemonProc{sock: sock}
	// --root keeps the test's audit events out of the host's runtime log.
	d.cmd = exec.Command(bin, "--root", filepath.Dir(sock), "vtpmd", "--dir", dir, "--ca-dir", ca, "--socket", sock, "--host-tpm", "none")
	d.cmd.Stderr = &d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the socket by retrying connect, bounded.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return d
		}
		if time.Now().After(deadline) {
			d.cmd.Process.Kill()
			d.cmd.Wait()
			t.Fatalf("vtpmd did not listen on %s: %v\n%s", sock, err, d.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (d *daemonProc) stop(t *testing.T) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("vtpmd exit: %v\n%s", err, d.stderr.String())
	}
}

// Implements R-TRUST-4, R-TRUST-6, R-OPS-1: the operator and attestation
// commands of the trustbox binary against a running vtpmd, across a restart.
func TestCLIAttestVerify(t *testing.T) {
	testutil.RequiresBinary(t, "swtpm")
	bin := testutil.TrustboxBinary(t)
	base := t.TempDir()
	// vtpmd runs each swtpm as its own uid, which must reach its state dir.
	os.Chmod(filepath.Dir(base), 0o711)
	os.Chmod(base, 0o711)
	dir, ca, sock := filepath.Join(base, "vtpm"), filepath.Join(base, "ca"), filepath.Join(base, "vtpmd.sock")
	d := runVtpmd(t, bin, dir, ca, sock)
	c := vtpm.Client{Socket: sock}
	if _, err := c.Create(context.Background(), "cli", request("")); err != nil {
		d.stop(t)
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	// Restart the daemon: the container's vTPM is found again.
	d.stop(t)
	d = runVtpmd(t, bin, dir, ca, sock)
	defer d.stop(t)
	defer c.Destroy(context.Background(), "cli")
	if out, code := run("vtpm", "list", "--socket", sock); code != 0 || !strings.Contains(out, "cli") || !strings.Contains(out, "software") {
		t.Fatalf("vtpm list after restart (exit %d):\n%s", code, out)
	}
	ev, code := run("attest", "cli", "--nonce", "00112233", "--socket", sock)
	if code != 0 {
		t.Fatalf("attest exit %d:\n%s", code, ev)
	}
	evFile := filepath.Join(base, "evidence.json")
	os.WriteFile(evFile, []byte(ev), 0o600)
	rootPEM, _ := os.ReadFile(filepath.Join(ca, "root.crt"))
	pol, _ := json.Marshal(attestapi.Policy{Version: attestapi.PolicyVersion, TrustedRoots: []string{string(rootPEM)},
		AllowSoftwareRoot: true, AllowedImageDigests: []string{"sha256:img"}})
	polFile := filepath.Join(base, "policy.json")
	os.WriteFile(polFile, pol, 0o600)
	cases := []struct {
		nonce string
		code  int
		want  string
	}{
		{"00112233", 0, `"trusted": true`},
		{"99999999", 1, "nonce mismatch"},
	}
	for _, cs := range cases {
		out, code := run("verify", evFile, "--policy", polFile, "--nonce", cs.nonce)
		if code != cs.code || !strings.Contains(out, cs.want) {
			t.Errorf("verify --nonce %s: exit %d, want %d with %q:\n%s", cs.nonce, code, cs.code, cs.want, out)
		}
	}
	seen := filepath.Join(base, "seen")
	for i, want := range []int{0, 1} {
		out, code := run("verify", evFile, "--policy", polFile, "--nonce", "00112233", "--seen", seen)
		if code != want || (want == 1 && !strings.Contains(out, "replayed nonce")) {
			t.Errorf("verify --seen, run %d: exit %d, want %d:\n%s", i+1, code, want, out)
		}
	}
	if out, code := run("vtpm", "ek", "cli", "--socket", sock); code != 0 || strings.Count(out, "BEGIN CERTIFICATE") != 3 {
		t.Errorf("vtpm ek (exit %d): want the RSA EK, ECC EK and root certificates:\n%s", code, out)
	}
	if out, code := run("vtpm", "eventlog", "cli", "--socket", sock); code != 0 {
		t.Errorf("vtpm eventlog exit %d: %s", code, out)
	} else if evs, err := attestapi.ParseEventLog([]byte(out)); err != nil || len(evs) == 0 {
		t.Errorf("vtpm eventlog output does not parse: %d events, %v", len(evs), err)
	}
	if out, code := run("vtpm", "detach", "cli", "--socket", sock); code != 0 {
		t.Fatalf("vtpm detach exit %d: %s", code, out)
	}
	if out, _ := run("vtpm", "show", "cli", "--socket", sock); !strings.Contains(out, `"attached": false`) {
		t.Errorf("vtpm show after detach:\n%s", out)
	}
	if out, code := run("vtpm", "attach", "cli", "--owner", "1000:1000", "--socket", sock); code != 0 || !strings.Contains(out, `"host_socket"`) {
		t.Errorf("vtpm attach (exit %d):\n%s", code, out)
	}
	if out, code := run("vtpm", "attach", "cli", "--owner", "root", "--socket", sock); code == 0 || !strings.Contains(out, "UID:GID") {
		t.Errorf("vtpm attach --owner root (exit %d): %s", code, out)
	}
	if out, code := run("vtpm", "destroy", "cli", "--socket", sock); code != 0 {
		t.Fatalf("vtpm destroy exit %d: %s", code, out)
	}
	if out, _ := run("vtpm", "show", "cli", "--socket", sock); !strings.Contains(out, "no vTPM") {
		t.Errorf("vtpm show after destroy: %s", out)
	}
}
