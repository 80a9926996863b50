package e2e

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// openPty returns a pty master and its peer.
func openPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// `run` of a terminal process without --console-socket proxies the user's
// terminal (raw mode, window size) to the container's pty, and exits with
// the container's status.
func TestRunInteractiveTerminal(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sh"}, func(s *specs.Spec) { s.Process.Terminal = true })
	master, peer := openPty(t)
	defer master.Close()
	if err := unix.IoctlSetWinsize(int(peer.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 101}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.bin, "--root", e.root, "run", "--bundle", b, "e2e-tty-run")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = peer, peer, peer
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	peer.Close()
	if _, err := master.Write([]byte("stty size; echo hi-$((1+2)); exit 3\n")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }() // EIO once every peer is closed
	err := waitTracked(cmd)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("terminal output did not end")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("run exit: %v\n%s", err, out.String())
	}
	if s := out.String(); !strings.Contains(s, "hi-3") || !strings.Contains(s, "33 101") {
		t.Fatalf("terminal output %q lacks the command's output or the window size", s)
	}
}

// exec --tty without --console-socket proxies the caller's terminal too.
func TestExecInteractiveTerminal(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sleep", "1000"})
	e.must("run", "-d", "--bundle", b, "e2e-tty-exec")
	defer e.run("delete", "-f", "e2e-tty-exec")
	master, peer := openPty(t)
	defer master.Close()
	cmd := exec.Command(e.bin, "--root", e.root, "exec", "-t", "e2e-tty-exec", "sh", "-c", "tty; exit 4")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = peer, peer, peer
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	peer.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	err := waitTracked(cmd)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("terminal output did not end")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 || !strings.Contains(out.String(), "/dev/pts/") {
		t.Fatalf("exec -t: %v %q", err, out.String())
	}
}
