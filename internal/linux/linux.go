package linux

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Retry runs f until it stops failing with EINTR (or EAGAIN, which openat2
// returns when a concurrent rename raced its resolution).
func Retry(f func() error) error {
	for i := 0; ; i++ {
		err := f()
		if !errors.Is(err, unix.EINTR) && !(errors.Is(err, unix.EAGAIN) && i < 32) {
			return err
		}
	}
}

// Openat2 opens path relative to dirfd with the given resolve flags; O_CLOEXEC is always set.
func Openat2(dirfd int, path string, flags uint64, resolve uint64) (*os.File, error) {
	how := unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: resolve}
	if flags&unix.O_CREAT != 0 {
		how.Mode = 0o644
	}
	var fd int
	err := Retry(func() (e error) {
		fd, e = unix.Openat2(dirfd, path, &how)
		return e
	})
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ProcSelfFd returns the magic-link path of an fd, for the few syscalls that take only paths.
func ProcSelfFd(fd uintptr) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// CloseRangeFrom marks every fd >= from close-on-exec (CVE-2024-21626: no runtime fd leaks into the container).
func CloseRangeFrom(from int) error {
	return unix.CloseRange(uint(from), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
}

// PidfdOpen returns a pidfd for pid; signals sent through it can never hit a recycled pid.
func PidfdOpen(pid int) (int, error) {
	var fd int
	err := Retry(func() (e error) { fd, e = unix.PidfdOpen(pid, 0); return e })
	return fd, err
}
