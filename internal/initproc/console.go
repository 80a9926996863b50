package initproc

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// setupConsole allocates a pty inside the container's devpts, makes its
// peer (opened with TIOCGPTPEER, never by path) our controlling terminal and
// stdio, and sends the master to the runtime with SCM_RIGHTS.
func setupConsole(sync *os.File, exec bool, size *specs.Box) error {
	ptmx, err := openInRoot("/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY)
	if err != nil {
		if ptmx, err = openInRoot("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY); err != nil {
			return fmt.Errorf("console: open ptmx: %w", err)
		}
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("console: unlockpt: %w", err)
	}
	peer, _, errno := unix.Syscall(unix.SYS_IOCTL, ptmx.Fd(), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		return fmt.Errorf("console: TIOCGPTPEER: %w", errno)
	}
	defer unix.Close(int(peer))
	if size != nil { // process.consoleSize, before the workload reads it
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(int(ptmx.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("process.consoleSize: %w", err)
		}
	}
	if err := sendFd(sync, config.Message{Type: "pty"}, int(ptmx.Fd())); err != nil {
		return fmt.Errorf("console: send pty master: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(peer), fd, 0); err != nil {
			return fmt.Errorf("console: dup: %w", err)
		}
	}
	if exec {
		_, _ = unix.Setsid()
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("console: TIOCSCTTY: %w", err)
	}
	return nil
}
