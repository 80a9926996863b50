package vtpm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// process is a running swtpm, either our child or one found again after a
// manager restart; a pidfd makes signals and waits immune to pid reuse.
type process struct {
	pid   int
	pidfd int
	done  chan struct{} // closed when a child has been reaped
}

func newProcess(cmd *exec.Cmd) (*process, error) {
	fd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", cmd.Process.Pid, err)
	}
	p := &process{pid: cmd.Process.Pid, pidfd: fd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// attachProcess finds a swtpm left running by an earlier manager.
func attachProcess(pid int) (*process, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("swtpm pid %d: %w", pid, err)
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || !strings.HasPrefix(filepath.Base(exe), "swtpm") {
		unix.Close(fd)
		return nil, fmt.Errorf("pid %d is not swtpm (exe %q)", pid, exe)
	}
	return &process{pid: pid, pidfd: fd}, nil
}

// alive reports whether the process has not exited yet.
func (p *process) alive() bool {
	fds := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n == 0
}

// wait blocks until the process exits or ctx ends.
func (p *process) wait(ctx context.Context) error {
	if p.done != nil {
		select {
		case <-p.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		ms := 100
		if dl, ok := ctx.Deadline(); ok {
			ms = min(ms, int(time.Until(dl).Milliseconds())+1)
		}
		fds := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if n > 0 {
			return nil
		}
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("wait for swtpm pid %d: %w", p.pid, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *process) kill() {
	unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0)
	p.wait(context.Background())
	p.release()
}

func (p *process) release() {
	if p.pidfd >= 0 {
		unix.Close(p.pidfd)
		p.pidfd = -1
	}
}
