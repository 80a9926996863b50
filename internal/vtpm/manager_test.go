package vtpm_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

func openManager(t testing.TB, dir string) *vtpm.Manager {
	t.Helper()
	testutil.RequiresBinary(t, "swtpm")
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// destroyAll removes every vTPM, so no swtpm outlives the test.
func destroyAll(t testing.TB, m *vtpm.Manager) {
	for _, i := range m.List() {
		m.Destroy(context.Background(), i.ID)
	}
}

func request(stateDir string) vtpm.CreateRequest {
	return vtpm.CreateRequest{ContainerStateDir: stateDir, Measure: attestapi.MeasureInput{
		Runtime:    attestapi.Runtime{BinarySHA256: "rt", Version: "0.1.0"},
		OCIConfig:  []byte(`{"ociVersion":"1.2.0","process":{"args":["/bin/sh"]}}`),
		Image:      attestapi.Image{RootfsDigest: "sha256:img"},
		Policy:     attestapi.SecurityPolicy{Profile: "default"},
		Entrypoint: attestapi.Entrypoint{Argv: []string{"/bin/sh"}},
	}}
}

func verify(t testing.TB, m *vtpm.Manager, id string) attestapi.Verdict {
	t.Helper()
	nonce := []byte("nonce-" + id)
	ev, err := m.Attest(context.Background(), id, nonce)
	if err != nil {
		t.Fatal(err)
	}
	p := &attestapi.Policy{Version: attestapi.PolicyVersion, AllowSoftwareRoot: true,
		TrustedRoots: []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.Root().Cert.Raw}))}}
	return verifier.Appraise(ev, verifier.Options{Policy: p, Nonce: nonce})
}

// Implements R-TRUST-2, R-TRUST-4, R-TRUST-7: create gives a measured,
// attestable vTPM whose only container-facing files are the adapter socket
// and the read-only event log; destroy leaves nothing behind.
func TestManagerCreateAttestDestroy(t *testing.T) {
	dir := t.TempDir()
	m := openManager(t, dir)
	defer destroyAll(t, m)
	att, err := m.Create(context.Background(), "web", request(""))
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(att.HostDir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "eventlog,tpm.sock" {
		t.Errorf("container-facing dir holds %v, want only eventlog and tpm.sock", names)
	}
	if fi, _ := os.Stat(att.HostDir); fi.Mode().Perm() != 0o700 {
		t.Errorf("attachment dir mode %o, want 0700 (no owner: root only): host users must not reach adapter sockets", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Join(att.HostDir, "eventlog")); fi.Mode().Perm() != 0o444 {
		t.Errorf("event log mode %o, want 0444", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Join(dir, "vtpm", "web", "state.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("state key mode %o, want 0600 (R-OPS-3)", fi.Mode().Perm())
	}
	if v := verify(t, m, "web"); !v.Trusted || v.RootKind != "software" {
		t.Fatalf("fresh vTPM not attestable: %+v", v)
	}
	if _, err := m.Create(context.Background(), "web", request("")); err == nil {
		t.Error("second Create for the same container succeeded")
	}
	pid := m.List()[0].PID
	if err := m.Destroy(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "vtpm", "web"), att.HostDir, fmt.Sprintf("/proc/%d", pid)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still exists after Destroy", p)
		}
	}
}

func TestManagerCreateFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: dir, Swtpm: "/nonexistent/swtpm"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ id, want string }{{"ok-id", "no such file"}, {"../escape", "invalid container id"}}
	for _, c := range cases {
		if _, err := m.Create(context.Background(), c.id, request("")); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Create(%q) error %v, want %q", c.id, err, c.want)
		}
	}
	for _, sub := range []string{"vtpm", "attach"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		if len(ents) != 0 {
			t.Errorf("%s/ not empty after failed creates: %v", sub, ents)
		}
	}
}

// A restarted manager re-attaches with PCRs intact, destroys the vTPM of a
// container deleted meanwhile, and restarts a killed swtpm (whose evidence
// then shows the reset).
func TestManagerRestart(t *testing.T) {
	dir := t.TempDir()
	alive, gone := t.TempDir(), filepath.Join(t.TempDir(), "gone")
	os.Mkdir(gone, 0o700)
	m := openManager(t, dir)
	for _, id := range []string{"keep", "deleted", "killed"} {
		sd := alive
		if id == "deleted" {
			sd = gone
		}
		if _, err := m.Create(context.Background(), id, request(sd)); err != nil {
			t.Fatal(err)
		}
	}
	var killedPID, deletedPID int
	for _, i := range m.List() {
		switch i.ID {
		case "killed":
			killedPID = i.PID
		case "deleted":
			deletedPID = i.PID
		}
	}
	m.Close()
	os.Remove(gone)
	os.MkdirAll(filepath.Join(dir, "attach", "stale"), 0o755) // left by a manager killed mid-create
	waitKilled(t, killedPID)

	m2 := openManager(t, dir)
	defer destroyAll(t, m2)
	var ids []string
	for _, i := range m2.List() {
		ids = append(ids, i.ID)
	}
	if strings.Join(ids, ",") != "keep,killed" {
		t.Fatalf("after restart the manager has %v, want keep,killed", ids)
	}
	if _, err := os.Stat(filepath.Join(dir, "attach", "stale")); err == nil {
		t.Error("stale attach dir survived the restart")
	}
	if running(deletedPID) {
		t.Errorf("swtpm of the deleted container (pid %d) still runs", deletedPID)
	}
	if v := verify(t, m2, "keep"); !v.Trusted {
		t.Errorf("re-attached vTPM not attestable: %v", v.Reasons)
	}
	if v := verify(t, m2, "killed"); v.Trusted {
		t.Error("a vTPM whose swtpm died since launch still attests as launched")
	}
}

// running reports whether pid is a live process (not gone, not a zombie
// waiting for the test process, its parent, to reap it).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// waitKilled kills pid and waits on its pidfd until it has exited.
func waitKilled(t *testing.T, pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 10000); n != 1 {
		t.Fatalf("swtpm pid %d did not exit after SIGKILL: %v", pid, err)
	}
}

// Concurrent creates, attests and destroys on one manager (run with -race).
func TestManagerConcurrent(t *testing.T) {
	m := openManager(t, t.TempDir())
	defer destroyAll(t, m)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			if _, err := m.Create(context.Background(), id, request("")); err != nil {
				t.Error(err)
				return
			}
			if v := verify(t, m, id); !v.Trusted {
				t.Errorf("%s: %v", id, v.Reasons)
			}
			if err := m.Destroy(context.Background(), id); err != nil {
				t.Error(err)
			}
		}(fmt.Sprintf("c%d", i))
	}
	wg.Wait()
	if n := len(m.List()); n != 0 {
		t.Errorf("%d vTPMs left", n)
	}
}

// List and Show racing Destroy never see a half-destroyed vTPM (-race).
func TestManagerListDuringDestroy(t *testing.T) {
	m := openManager(t, t.TempDir())
	defer destroyAll(t, m)
	for i := 0; i < 3; i++ {
		if _, err := m.Create(context.Background(), fmt.Sprintf("r%d", i), request("")); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan bool)
	go func() {
		for i := 0; i < 3; i++ {
			m.Destroy(context.Background(), fmt.Sprintf("r%d", i))
		}
		close(done)
	}()
	for {
		select {
		case <-done:
			if n := len(m.List()); n != 0 {
				t.Errorf("%d vTPMs listed after destroying all", n)
			}
			return
		default:
			for _, i := range m.List() {
				if i.PID == 0 {
					t.Errorf("listed %s without a swtpm", i.ID)
				}
			}
			m.Show("r1")
		}
	}
}
