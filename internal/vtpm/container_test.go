package vtpm_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/trustbox/trustbox/internal/spec"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
)

func TestManagerContainerShape(t *testing.T) {
	s := spec.Default(false, 0, 0)
	o := vtpm.DaemonOptions{Dir: "/run/tb/vtpm", CADir: "/var/lib/tb/ca", Socket: "/run/tb/vtpmd.sock"}
	vtpm.ManagerContainer(s, o, "/usr/local/bin/trustbox", &[2]uint32{253, 65536})
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.UserNamespace || n.Type == specs.PIDNamespace {
			t.Errorf("manager container has a %s namespace", n.Type)
		}
	}
	if len(s.Process.Capabilities.Bounding) != len(vtpm.ManagerCapabilities) {
		t.Errorf("capabilities %v, want exactly %v", s.Process.Capabilities.Bounding, vtpm.ManagerCapabilities)
	}
	rw := map[string]bool{}
	for _, m := range s.Mounts {
		if m.Type == "bind" && m.Options[1] == "rw" {
			rw[m.Destination] = true
		}
	}
	if len(rw) != 3 || !rw[o.Dir] || !rw[o.CADir] || !rw["/run/tb"] {
		t.Errorf("read-write binds %v, want only the vTPM dir, the CA dir and the socket dir", rw)
	}
	if len(s.Linux.Devices) != 1 || s.Linux.Devices[0].Path != "/dev/tpmrm0" {
		t.Errorf("devices %+v, want only /dev/tpmrm0", s.Linux.Devices)
	}
}

// Implements R-TRUST-4: vtpmd runs in its own trustbox container, and a
// host client creates, attests and destroys a vTPM through its socket.
func TestManagerInContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.RequiresBinary(t, "swtpm")
	bin := testutil.TrustboxBinary(t)
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o711)
	os.Chmod(base, 0o711)
	o := vtpm.DaemonOptions{Dir: filepath.Join(base, "vtpm"), CADir: filepath.Join(base, "ca"), Socket: filepath.Join(base, "run", "vtpmd.sock")}
	for _, d := range []string{o.Dir, o.CADir, filepath.Dir(o.Socket)} {
		os.MkdirAll(d, 0o711)
	}
	bundle := filepath.Join(base, "bundle")
	rootfs := filepath.Join(bundle, "rootfs")
	for _, d := range []string{"usr", "etc", "proc", "sys", "dev", "tmp", "run"} {
		os.MkdirAll(filepath.Join(rootfs, d), 0o755)
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		os.Symlink("usr/"+l, filepath.Join(rootfs, l))
	}
	os.WriteFile(filepath.Join(rootfs, "trustbox"), nil, 0o755)
	for _, d := range []string{o.Dir, o.CADir, filepath.Dir(o.Socket)} {
		os.MkdirAll(filepath.Join(rootfs, d), 0o755)
	}
	s := spec.Default(false, 0, 0)
	vtpm.ManagerContainer(s, o, bin, nil)
	b, _ := json.MarshalIndent(s, "", " ")
	os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)

	state := filepath.Join(base, "state")
	tb := func(args ...string) ([]byte, error) {
		return exec.Command(bin, append([]string{"--root", state}, args...)...).CombinedOutput()
	}
	// Files, not pipes: the detached container inherits stdio.
	logf, err := os.Create(filepath.Join(base, "run.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	run := exec.Command(bin, "--root", state, "run", "--detach", "--bundle", bundle, "vtpmd-test")
	run.Stdout, run.Stderr = logf, logf
	if err := run.Run(); err != nil {
		out, _ := os.ReadFile(logf.Name())
		t.Fatalf("run vtpmd container: %v\n%s", err, out)
	}
	defer func() {
		tb("kill", "vtpmd-test", "KILL")
		tb("delete", "--force", "vtpmd-test")
		// swtpm outlives the manager by design: clean up from the host.
		if m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: o.Dir, CADir: o.CADir}); err == nil {
			destroyAll(t, m)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("unix", o.Socket)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			out, _ := tb("state", "vtpmd-test")
			t.Fatalf("containerised vtpmd never listened on %s: %v\n%s", o.Socket, err, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := vtpm.Client{Socket: o.Socket}
	ctx := context.Background()
	if _, err := c.Create(ctx, "guest", request("")); err != nil {
		t.Fatal(err)
	}
	ev, err := c.Attest(ctx, "guest", []byte("in-container"))
	if err != nil || ev.RootKind != "software" {
		t.Fatalf("attest through the containerised manager: %v", err)
	}
	if err := c.Destroy(ctx, "guest"); err != nil {
		t.Fatal(err)
	}
}
