package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	flagNewListener = 1 << 3 // SECCOMP_FILTER_FLAG_NEW_LISTENER
	flagTsyncESRCH  = 1 << 4 // SECCOMP_FILTER_FLAG_TSYNC_ESRCH
)

// NeedsListener reports whether the filter can return USER_NOTIF.
func (p *Program) NeedsListener() bool {
	for _, in := range p.Filter {
		if in.Code == unix.BPF_RET|unix.BPF_K && in.K == retUserNotif {
			return true
		}
	}
	return false
}

// Install sets no_new_privs and loads the program as one filter for every
// thread of the process (TSYNC). When the filter can notify, it also asks
// for a listener and returns its fd (else -1); the supervisor must get it
// before execve closes it. Call it last before execve, on a locked thread.
func Install(p *Program) (int, error) {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, fmt.Errorf("install seccomp filter: set no_new_privs: %w", err)
	}
	flags := p.Flags | unix.SECCOMP_FILTER_FLAG_TSYNC
	if p.NeedsListener() {
		flags |= flagNewListener | flagTsyncESRCH
	}
	return load(p.Filter, flags)
}

// InstallThread loads the program on the calling thread only, without
// TSYNC: for a locked thread about to execve, so that other threads of the
// Go runtime never block on a notification nobody reads yet.
func InstallThread(p *Program) (int, error) {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, fmt.Errorf("install seccomp filter: set no_new_privs: %w", err)
	}
	flags := p.Flags
	if p.NeedsListener() {
		flags |= flagNewListener
	}
	return load(p.Filter, flags)
}

func load(filter []unix.SockFilter, flags uint) (int, error) {
	if len(filter) == 0 {
		return -1, fmt.Errorf("install seccomp filter: empty program")
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return -1, fmt.Errorf("install seccomp filter of %d instructions with flags %#x: %w", len(filter), flags, errno)
	}
	if flags&flagNewListener != 0 {
		return int(r), nil
	}
	if r != 0 {
		return -1, fmt.Errorf("install seccomp filter: TSYNC failed for thread %d", r)
	}
	return -1, nil
}
