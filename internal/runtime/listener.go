package runtime

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/linux"
)

// Listener waits, after Start, for the seccomp listener fd a learning-mode
// init sends just before it execs the workload.
func (c *Container) Listener() (int, error) {
	if c.Sync == nil {
		return -1, fmt.Errorf("container %s: not in learning mode", c.State.ID)
	}
	defer c.Sync.Close()
	m, _, err := recvMsg(c.Sync)
	if err != nil {
		return -1, fmt.Errorf("seccomp listener: %w", err)
	}
	if m.Type == "error" {
		return -1, errors.New(m.Error)
	}
	if m.Type != "listener" {
		return -1, fmt.Errorf("seccomp listener: unexpected message %q", m.Type)
	}
	// Init may only make raw write, read and execve now: it sent the fd's
	// number, and we take the fd from its table ourselves.
	pidfd, err := linux.PidfdOpen(c.State.Pid)
	if err != nil {
		return -1, fmt.Errorf("seccomp listener: %w", err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, m.Pid, 0)
	if err != nil {
		return -1, fmt.Errorf("seccomp listener: pidfd_getfd: %w", err)
	}
	if _, err := c.Sync.Write([]byte{1}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("seccomp listener: ack: %w", err)
	}
	return fd, nil
}

// dialAgent connects to the seccomp agent at the profile's listenerPath; init
// sends it the listener when it loads the filter (SCMP_ACT_NOTIFY).
func dialAgent(s *specs.Spec) (*os.File, error) {
	path := s.Linux.Seccomp.ListenerPath
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("linux.seccomp.listenerPath %s: no seccomp agent listening: %w", path, err)
	}
	return os.NewFile(uintptr(fd), "seccomp-agent"), nil
}
