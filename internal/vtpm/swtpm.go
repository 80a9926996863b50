package vtpm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Files the manager keeps beside (not inside) an instance's state directory,
// named "<state dir>.<suffix>": the state directory may belong to swtpm's
// own uid, and nothing the manager later opens, connects to or trusts (the
// pid) may live where that uid could replace it with a link.
const (
	dataSock = "data.sock"
	ctrlSock = "ctrl.sock"
	pidFile  = "pid"
	logFile  = "log"
)

// sidecar is the path of one of the manager's files for stateDir.
func sidecar(stateDir, suffix string) string { return filepath.Clean(stateDir) + "." + suffix }

// KeySize is the length of the AES-256 key that encrypts swtpm's state files.
const KeySize = 32

// Config says how to start one swtpm.
type Config struct {
	// StateDir holds swtpm's state; created 0700. Its parent holds the
	// manager's sidecar files and must not be writable by Credential.
	StateDir string
	// Key encrypts the state at rest (aes-256-cbc); the manager keeps it in a
	// 0600 file outside StateDir (R-OPS-3). It is handed over a pipe, never argv.
	Key []byte
	// Binary is the swtpm executable; "swtpm" from PATH when empty.
	Binary string
	// Proxy, when set, serves a kernel vTPM (R-TRUST-3): swtpm runs in
	// chardev mode on Proxy.Server, which Start takes over, and the
	// manager talks to the TPM through the host's /dev/tpmN.
	Proxy *ProxyDevice
	// Credential, when set, runs swtpm as this unprivileged uid/gid; the
	// state directory is chowned to it.
	Credential *syscall.Credential
}

// Start launches swtpm on already-bound data and control sockets inside
// cfg.StateDir, so the TPM is reachable the moment Start returns, with no
// polling. swtpm runs in its own session so that it outlives a manager
// restart; Attach reconnects to it. On error nothing is left behind.
func Start(ctx context.Context, cfg Config) (inst *Instance, err error) {
	if len(cfg.Key) != KeySize {
		return nil, fmt.Errorf("start swtpm in %s: state key must be %d bytes, got %d", cfg.StateDir, KeySize, len(cfg.Key))
	}
	created, err := makeStateDir(cfg.StateDir, cfg.Credential)
	if err != nil {
		return nil, err
	}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
			if created {
				os.RemoveAll(cfg.StateDir)
			}
		}
	}()
	var data *os.File
	if cfg.Proxy != nil {
		data = cfg.Proxy.Server // the kernel's end: swtpm serves /dev/tpmN on it
	} else if data, err = listenFile(sidecar(cfg.StateDir, dataSock)); err != nil {
		return nil, err
	} else {
		cleanup = append(cleanup, func() { os.Remove(sidecar(cfg.StateDir, dataSock)) })
	}
	defer data.Close()
	ctrl, err := listenFile(sidecar(cfg.StateDir, ctrlSock))
	if err != nil {
		return nil, err
	}
	defer ctrl.Close()
	cleanup = append(cleanup, func() { os.Remove(sidecar(cfg.StateDir, ctrlSock)) })
	keyR, err := keyPipe(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("start swtpm in %s: %w", cfg.StateDir, err)
	}
	defer keyR.Close()
	logf, err := os.OpenFile(sidecar(cfg.StateDir, logFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start swtpm: %w", err)
	}
	defer logf.Close()
	cleanup = append(cleanup, func() { os.Remove(sidecar(cfg.StateDir, logFile)); os.Remove(sidecar(cfg.StateDir, pidFile)) })

	bin := cfg.Binary
	if bin == "" {
		bin = "swtpm"
	}
	cmd := exec.Command(bin, "socket", "--tpm2",
		"--server", "type=unixio,fd=3", "--ctrl", "type=unixio,fd=4",
		"--key", "fd=5,mode=aes-256-cbc,format=binary",
		"--tpmstate", "dir="+cfg.StateDir+",mode=0600",
		"--flags", "not-need-init,startup-clear")
	if cfg.Proxy != nil {
		cmd = exec.Command(bin, SwtpmArgs(cfg.StateDir)...)
	}
	cmd.ExtraFiles = []*os.File{data, ctrl, keyR}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: cfg.Credential}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start swtpm in %s: %w", cfg.StateDir, err)
	}
	proc, err := newProcess(cmd)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("start swtpm in %s: %w", cfg.StateDir, err)
	}
	cleanup = append(cleanup, func() { proc.kill() })
	if err := writeFileAtomic(sidecar(cfg.StateDir, pidFile), []byte(strconv.Itoa(cmd.Process.Pid)+"\n")); err != nil {
		return nil, fmt.Errorf("start swtpm: %w", err)
	}
	if cfg.Proxy != nil {
		return connectProxy(ctx, cfg.StateDir, proc, cfg.Proxy)
	}
	return connect(ctx, cfg.StateDir, proc)
}

// connect opens the manager's data and control connections to a running swtpm.
func connect(ctx context.Context, dir string, proc *process) (*Instance, error) {
	var d net.Dialer
	data, err := d.DialContext(ctx, "unix", sidecar(dir, dataSock))
	if err != nil {
		return nil, fmt.Errorf("connect to swtpm data socket in %s: %w", dir, err)
	}
	return withCtrl(ctx, dir, proc, data)
}

// withCtrl connects the control channel and builds the Instance.
func withCtrl(ctx context.Context, dir string, proc *process, data dataConn) (*Instance, error) {
	var d net.Dialer
	ctrl, err := d.DialContext(ctx, "unix", sidecar(dir, ctrlSock))
	if err != nil {
		data.Close()
		return nil, fmt.Errorf("connect to swtpm control socket in %s: %w", dir, err)
	}
	return &Instance{dir: dir, proc: proc, data: data, dataR: bufio.NewReaderSize(data, 4096), ctrl: ctrl, timeout: 30 * time.Second, baton: make(chan struct{}, 1)}, nil
}

func makeStateDir(dir string, cred *syscall.Credential) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return false, fmt.Errorf("create parent of state dir %s: %w", dir, err)
	}
	err = os.Mkdir(dir, 0o700)
	switch {
	case err == nil:
		created = true
	case errors.Is(err, os.ErrExist):
	default:
		return false, fmt.Errorf("create state dir %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return created, fmt.Errorf("state dir %s: %w", dir, err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return created, fmt.Errorf("state dir %s: %w", dir, err)
		}
	}
	return created, nil
}

// listenFile binds and listens on a unix socket (mode 0600) and returns it as a
// file to pass to swtpm; the path stays in place for Attach.
func listenFile(path string) (*os.File, error) {
	os.Remove(path) // a stale socket from a dead swtpm
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false)
	defer l.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	f, err := l.File()
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return f, nil
}

// keyPipe returns the read end of a pipe already holding key, so the key
// never appears in argv or on disk in the state dir.
func keyPipe(key []byte) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("key pipe: %w", err)
	}
	defer w.Close()
	if _, err := w.Write(key); err != nil {
		r.Close()
		return nil, fmt.Errorf("key pipe: %w", err)
	}
	return r, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
