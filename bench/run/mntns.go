package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// nsThread runs functions on one OS thread that has its own mount namespace.
// Processes started from that thread inherit the namespace; the host's
// mounts and every other thread of this program are untouched, and nothing
// extra (no unshare or sh wrapper) is timed.
//
// With hideUnified, the cgroup2 mount is gone in there, so runc and crun see a
// cgroup v1-only host (crun refuses this host's hybrid layout). With tmpfs, a
// fresh tmpfs covers that directory (the state roots) in there.
type nsThread struct {
	work chan func()
}

func newNSThread(hideUnified, tmpfs string) (*nsThread, error) {
	ns := &nsThread{work: make(chan func())}
	errc := make(chan error)
	go func() {
		// Never unlocked: the thread dies with the goroutine instead of going
		// back to Go's pool with a different mount namespace.
		runtime.LockOSThread()
		if err := enterPrivateNS(hideUnified, tmpfs); err != nil {
			errc <- err
			return
		}
		errc <- nil
		for f := range ns.work {
			f()
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return ns, nil
}

func enterPrivateNS(hideUnified, tmpfs string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare mount namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private in the bench namespace: %w", err)
	}
	if hideUnified != "" {
		if err := unix.Unmount(hideUnified, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			return fmt.Errorf("umount %s in the bench namespace: %w", hideUnified, err)
		}
	}
	if tmpfs != "" {
		if err := unix.Mount("tmpfs", tmpfs, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0711"); err != nil {
			return fmt.Errorf("tmpfs on %s in the bench namespace: %w", tmpfs, err)
		}
	}
	return nil
}

// do runs f on the namespace's thread and waits for it.
func (ns *nsThread) do(f func()) {
	done := make(chan struct{})
	ns.work <- func() { f(); close(done) }
	<-done
}

func (ns *nsThread) close() { close(ns.work) }
