package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustbox/trustbox/internal/testutil"
)

// peer runs a client program and returns its combined output and exit code.
func peer(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out), 0
}

// imageTar packs a busybox rootfs as a tarball that `podman import` takes.
func imageTar(t *testing.T) (rootfs, tarball string) {
	dir := testutil.BusyboxRootfs(t)
	rootfs = filepath.Join(dir, "rootfs")
	tarball = filepath.Join(t.TempDir(), "busybox.tar")
	if out, code := peer(t, "tar", "-C", rootfs, "-cf", tarball, "."); code != 0 {
		t.Fatalf("tar: %s", out)
	}
	return rootfs, tarball
}

// R-ISO-3: Podman (through conmon) uses trustbox unchanged: run, exit
// status, run -d, exec, exec -t (console socket), stop, rm.
func TestPodman(t *testing.T) {
	e := newEnv(t)
	podman := testutil.RequiresBinary(t, "podman")
	testutil.RequiresBinary(t, "conmon")
	_, tarball := imageTar(t)
	image := fmt.Sprintf("localhost/trustbox-e2e:%d", os.Getpid())
	if out, code := peer(t, podman, "import", tarball, image); code != 0 {
		t.Fatalf("podman import: %s", out)
	}
	defer peer(t, podman, "rmi", "-f", image)
	// Podman's default nofile/nproc limits (1048576) exceed what this VM lets root set.
	base := []string{"--runtime", e.bin, "--cgroup-manager=cgroupfs"}
	runArgs := []string{"--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}
	args := append(append(append([]string{}, base...), "run", "--rm"), runArgs...)
	out, code := peer(t, podman, append(args, image, "sh", "-c", "grep -E 'NoNewPrivs|Seccomp:' /proc/self/status; exit 4")...)
	if code != 4 || !strings.Contains(out, "NoNewPrivs:\t1") || !strings.Contains(out, "Seccomp:\t2") {
		t.Fatalf("podman run: exit %d\n%s", code, out)
	}
	name := fmt.Sprintf("trustbox-e2e-%d", os.Getpid())
	args = append(append(append([]string{}, base...), "run", "-d", "--name", name), runArgs...)
	if out, code := peer(t, podman, append(args, image, "sleep", "1000")...); code != 0 {
		t.Fatalf("podman run -d: %s", out)
	}
	defer peer(t, podman, append(append([]string{}, base...), "rm", "-f", name)...)
	if out, code := peer(t, podman, append(append([]string{}, base...), "exec", name, "sh", "-c", "echo exec-ok; exit 3")...); code != 3 || !strings.Contains(out, "exec-ok") {
		t.Fatalf("podman exec: exit %d %s", code, out)
	}
	if out, code := peer(t, podman, append(append([]string{}, base...), "exec", "-t", name, "tty")...); code != 0 || !strings.Contains(out, "/dev/pts/") {
		t.Fatalf("podman exec -t: exit %d %s", code, out)
	}
	if out, code := peer(t, podman, append(append([]string{}, base...), "stop", "-t", "0", name)...); code != 0 {
		t.Fatalf("podman stop: %s", out)
	}
	if out, code := peer(t, podman, append(append([]string{}, base...), "rm", name)...); code != 0 {
		t.Fatalf("podman rm: %s", out)
	}
}

// R-ISO-3: containerd's stock runc.v2 shim drives trustbox (ctr --runc-binary),
// and a refused config reaches the user through the shim's JSON log.
func TestContainerd(t *testing.T) {
	e := newEnv(t)
	ctd := testutil.RequiresBinary(t, "containerd")
	ctr := testutil.RequiresBinary(t, "ctr")
	rootfs, _ := imageTar(t)
	dir, err := os.MkdirTemp("/tmp", "tb-ctd-") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "c.sock")
	conf := fmt.Sprintf("version = 2\nroot = %q\nstate = %q\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n[grpc]\n  address = %q\n",
		filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	daemon := exec.Command(ctd, "--config", filepath.Join(dir, "config.toml"))
	logf, _ := os.Create(filepath.Join(dir, "containerd.log"))
	daemon.Stdout, daemon.Stderr = logf, logf
	if err := startTracked(daemon); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = daemon.Process.Kill(); _ = waitTracked(daemon) }()
	waitSocket(t, sock, daemon)
	c := []string{"-a", sock, "run", "--rm", "--rootfs", "--runc-binary", e.bin}
	out, code := peer(t, ctr, append(c, rootfs, "e2e-ctd", "sh", "-c", "grep -E 'NoNewPrivs|Seccomp:' /proc/self/status; exit 6")...)
	if code != 6 || !strings.Contains(out, "NoNewPrivs:\t1") || !strings.Contains(out, "Seccomp:\t2") {
		t.Fatalf("ctr run: exit %d\n%s", code, out)
	}
	// -t: the shim hands trustbox a console socket and relays the pty.
	master, peerTTY := openPty(t)
	defer master.Close()
	tcmd := exec.Command(ctr, "-a", sock, "run", "-t", "--rm", "--rootfs", "--runc-binary", e.bin, rootfs, "e2e-ctd-tty", "sh", "-c", "tty; exit 5")
	tcmd.Stdin, tcmd.Stdout, tcmd.Stderr = peerTTY, peerTTY, peerTTY
	if err := startTracked(tcmd); err != nil {
		t.Fatal(err)
	}
	peerTTY.Close()
	var ttyOut bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&ttyOut, master); close(done) }()
	terr := waitTracked(tcmd)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ctr -t output did not end")
	}
	var ee *exec.ExitError
	if !errors.As(terr, &ee) || ee.ExitCode() != 5 || !strings.Contains(ttyOut.String(), "/dev/pts/") {
		t.Fatalf("ctr run -t: %v %q", terr, ttyOut.String())
	}
	c = []string{"-a", sock, "run", "--rm", "--privileged", "--rootfs", "--runc-binary", e.bin}
	out, code = peer(t, ctr, append(c, rootfs, "e2e-ctd-priv", "true")...)
	if code == 0 || !strings.Contains(out, "refused by the trustbox baseline") || !strings.Contains(out, "R-TRUST-5") {
		t.Fatalf("privileged container: exit %d\n%s", code, out)
	}
}

// waitSocket waits until the daemon accepts connections (bounded), failing
// early if it exits.
func waitSocket(t *testing.T, sock string, daemon *exec.Cmd) {
	t.Helper()
	delay := time.Millisecond
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if daemon.ProcessState != nil {
			t.Fatal("containerd exited")
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
	t.Fatal("containerd did not listen within 20s")
}
