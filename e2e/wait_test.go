package e2e

import (
	"testing"

	"golang.org/x/sys/unix"
)

// waitExit blocks until pid exits, observed through a pidfd (no sleeping).
func waitExit(t *testing.T, pid int) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // already gone
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 10000)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("pid %d did not exit: %v", pid, err)
		}
		return
	}
}
