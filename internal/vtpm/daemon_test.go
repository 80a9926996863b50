package vtpm_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
)

// startDaemon serves a manager on a socket in a world-traversable temp dir.
func startDaemon(t *testing.T) (vtpm.Client, *vtpm.Manager, string) {
	t.Helper()
	m := openManager(t, t.TempDir())
	dir, err := os.MkdirTemp("", "vtpmd-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "vtpmd.sock")
	ln, err := vtpm.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- vtpm.Serve(ctx, ln, m) }()
	t.Cleanup(func() {
		cancel()
		<-done
		destroyAll(t, m)
		os.RemoveAll(dir)
	})
	return vtpm.Client{Socket: sock}, m, sock
}

// Implements R-OPS-1 and R-TRUST-4: the control API end to end.
func TestDaemonControlAPI(t *testing.T) {
	c, _, sock := startDaemon(t)
	ctx := context.Background()
	if fi, _ := os.Stat(sock); fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode %o, want 0600", fi.Mode().Perm())
	}
	att, err := c.Create(ctx, "api", request(""))
	if err != nil {
		t.Fatal(err)
	}
	if att.HostSocket == "" || len(att.Env) == 0 {
		t.Errorf("attachment lacks socket or env: %+v", att)
	}
	list, err := c.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "api" || !list[0].Running {
		t.Fatalf("list: %+v %v", list, err)
	}
	if info, err := c.Show(ctx, "api"); err != nil || info.RootKind != "software" {
		t.Errorf("show: %+v %v", info, err)
	}
	if ev, err := c.Attest(ctx, "api", []byte("n1")); err != nil || ev.RootKind != "software" || ev.ContainerID != "api" {
		t.Errorf("attest: %v", err)
	}
	if log, err := c.EventLog(ctx, "api"); err != nil || len(log) == 0 {
		t.Errorf("eventlog: %d bytes, %v", len(log), err)
	}
	if ch, err := c.EKChain(ctx, "api"); err != nil || len(ch) != 3 {
		t.Errorf("ekchain: %d certs, %v", len(ch), err)
	}
	if err := c.Destroy(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Show(ctx, "api"); err == nil || !strings.Contains(err.Error(), "no vTPM") {
		t.Errorf("show after destroy: %v", err)
	}
}

// A caller with another uid is refused by SO_PEERCRED even if it can reach
// the socket (R-OPS-1).
func TestDaemonRefusesOtherUID(t *testing.T) {
	testutil.RequiresRoot(t)
	_, _, sock := startDaemon(t)
	os.Chmod(sock, 0o666) // let the socket mode through: peer credentials must still refuse
	pipe := adapterBinary(t)
	os.Chmod(filepath.Dir(pipe), 0o755)
	for _, req := range []string{`{"op":"list"}`, `{"op":"attach","id":"x"}`, `{"op":"detach","id":"x"}`,
		`{"op":"ekchain","id":"x"}`, `{"op":"eventlog","id":"x"}`} {
		cmd := exec.Command(pipe, sock)
		cmd.Stdin = strings.NewReader(req + "\n")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client as nobody: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "permission denied: uid 65534") {
			t.Errorf("nobody sending %s got %q, want a permission denial", req, out)
		}
	}
}
