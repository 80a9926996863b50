package vtpm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// devNodeWait bounds how long the manager waits for the kernel to register
// a new vTPM's /dev/tpmN (it does so once swtpm has answered the startup
// commands the driver sends).
const devNodeWait = 10 * time.Second

// openDevNode opens devDir/tpmN read-write, waiting for devtmpfs to create
// the node: an inotify watch on devDir is set before each look, so the
// creation is observed rather than polled for.
func openDevNode(ctx context.Context, devDir string, n uint32) (*os.File, error) {
	path := filepath.Join(devDir, fmt.Sprintf("tpm%d", n))
	ctx, cancel := context.WithTimeout(ctx, devNodeWait)
	defer cancel()
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("kernel vTPM %s: inotify: %w", path, err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, devDir, unix.IN_CREATE|unix.IN_ATTRIB|unix.IN_MOVED_TO); err != nil {
		return nil, fmt.Errorf("kernel vTPM %s: watch %s: %w", path, devDir, err)
	}
	buf := make([]byte, 4096)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("kernel vTPM %s: %w", path, err)
		}
		if err := waitReadable(ctx, in); err != nil {
			return nil, fmt.Errorf("kernel vTPM %s did not appear: %w", path, err)
		}
		for { // drain the events; the next look decides
			if _, err := unix.Read(in, buf); err != nil {
				break
			}
		}
	}
}

// waitReadable blocks until fd is readable or ctx ends.
func waitReadable(ctx context.Context, fd int) error {
	for {
		ms := 100
		if dl, ok := ctx.Deadline(); ok {
			ms = max(0, min(ms, int(time.Until(dl).Milliseconds())+1))
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if n > 0 {
			return nil
		}
		if err != nil && err != unix.EINTR {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
