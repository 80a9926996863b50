package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// R-OPS-2: lifecycle operations are chained events; `audit verify` detects an edit.
func TestAuditVerify(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"true"})
	e.must("run", "--bundle", b, "e2e-audit")
	out := e.must("audit", "verify")
	if !strings.Contains(out, "0 problems") {
		t.Fatalf("intact log: %s", out)
	}
	log := filepath.Join(e.root, "audit.log")
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// In order, though run writes the create event while the container
	// starts (CreateOptions.Overlap).
	at := -1
	for _, ev := range []string{`"event":"create"`, `"event":"start"`, `"event":"delete"`} {
		i := strings.Index(string(data), ev)
		if i < 0 || i < at {
			t.Errorf("audit log lacks %s after the previous event: %s", ev, data)
		}
		at = i
	}
	if err := os.WriteFile(log, []byte(strings.Replace(string(data), "e2e-audit", "e2e-other", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.run("audit", "verify"); r.code == 0 || !strings.Contains(r.stdout, "modified") {
		t.Fatalf("tampered log passed: %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// SIGKILL the runtime in the middle of create: `delete --force` cleans every
// process, cgroup and state file. A createRuntime hook tells the test, through
// a fifo, that create is underway and then blocks.
func TestKilledCreateIsCleanedUp(t *testing.T) {
	e := newEnv(t)
	fifo := filepath.Join(t.TempDir(), "hook.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	b := e.bundle([]string{"sleep", "1000"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo in-hook > " + fifo + "; exec sleep 1000"}}}}
	})
	cmd := exec.Command(e.bin, "--root", e.root, "create", "--bundle", b, "e2e-killed")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	defer e.run("delete", "--force", "e2e-killed")
	f, err := os.Open(fifo) // blocks until the hook runs
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	_, _ = f.Read(buf)
	f.Close()
	var pids []int
	if err := json.Unmarshal([]byte(e.must("ps", "--format", "json", "e2e-killed")), &pids); err != nil || len(pids) != 1 {
		t.Fatalf("processes in the cgroup during create: %v %v", pids, err)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the runtime and its hook
	_ = waitTracked(cmd)
	e.must("delete", "--force", "e2e-killed")
	waitExit(t, pids[0])
	if _, err := os.Stat(filepath.Join(e.root, "e2e-killed")); !os.IsNotExist(err) {
		t.Fatalf("state left behind: %v", err)
	}
}

// 50 containers created, run and deleted concurrently leak nothing.
func TestConcurrentContainers(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sh", "-c", "echo ok"})
	var wg sync.WaitGroup
	errs := make(chan string, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.runIn(b, nil, "run", fmt.Sprintf("e2e-par-%d", i))
			if r.code != 0 || strings.TrimSpace(r.stdout) != "ok" {
				errs <- fmt.Sprintf("container %d: exit %d: %s %s", i, r.code, r.stdout, r.stderr)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if out := e.must("list", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("containers left: %s", out)
	}
}

// --console-socket follows runc's protocol: the pty master arrives with SCM_RIGHTS.
func TestConsoleSocket(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sh", "-c", "tty; test -t 0 && echo is-a-tty; stty size"}, func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 40, Width: 100}
	})
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			got <- nil
			return
		}
		cm, _ := unix.ParseSocketControlMessage(oob[:oobn])
		fds, _ := unix.ParseUnixRights(&cm[0])
		got <- os.NewFile(uintptr(fds[0]), "pty")
	}()
	e.must("create", "--bundle", b, "--console-socket", sock, "e2e-tty")
	defer e.run("delete", "-f", "e2e-tty")
	pty := <-got
	if pty == nil {
		t.Fatal("no pty master received")
	}
	defer pty.Close()
	st := e.state("e2e-tty")
	e.must("start", "e2e-tty")
	waitExit(t, st.Pid)
	// Everything the workload wrote, until the master reads EIO (no slave
	// is left open): one read may return only the first line.
	var s strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := pty.Read(buf)
		s.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(s.String(), "/dev/pts/0") || !strings.Contains(s.String(), "is-a-tty") || !strings.Contains(s.String(), "40 100") {
		t.Fatalf("console output %q", s.String())
	}
}
