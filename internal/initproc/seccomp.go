package initproc

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// installSeccomp loads the runtime-compiled filter; it runs after
// no_new_privs, so it needs no CAP_SYS_ADMIN (R-LSM-d).
//
// The filter goes on this thread only (TSYNC cleared): this thread execs the
// workload, which inherits it, and execve ends the Go runtime's other
// threads. Synchronising it onto them would subject the runtime's own futex,
// madvise and nanosleep calls to the workload's profile in the last
// microseconds before exec, and a tight profile kills them (as runc, which
// does not set TSYNC either).
func installSeccomp(prog []config.SockFilter, flags uint) error {
	flags &^= unix.SECCOMP_FILTER_FLAG_TSYNC
	filters := make([]unix.SockFilter, len(prog))
	for i, f := range prog {
		filters[i] = unix.SockFilter{Code: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("install seccomp filter (%d instructions): %w", len(filters), errno)
	}
	return nil
}

// execLearning is the end of init in learning mode. The filter notifies the
// runtime of every call outside the base profile, and nobody answers until
// the runtime holds the listener: so after loading it (on this thread only)
// init makes nothing but raw write, read and execve, which the learning
// filter always allows. It tells the runtime the listener's fd number (the
// runtime takes it with pidfd_getfd), waits for its ack, and execs.
func execLearning(prog []config.SockFilter, flags uint, path string, argv, env []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return err
	}
	pathp, err := syscall.BytePtrFromString(path)
	if err != nil {
		return err
	}
	filters := make([]unix.SockFilter, len(prog))
	for i, f := range prog {
		filters[i] = unix.SockFilter{Code: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	msg := []byte(`{"type":"listener","pid":          }`)
	var ack [1]byte
	sync := syncSock.Fd()
	fd, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("install learning seccomp filter: %w", errno)
	}
	for i, v := 34, fd; ; i-- { // digits right-aligned into the preallocated blank
		msg[i] = byte('0' + v%10)
		if v /= 10; v == 0 {
			break
		}
	}
	unix.RawSyscall(unix.SYS_WRITE, sync, uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)))
	unix.RawSyscall(unix.SYS_READ, sync, uintptr(unsafe.Pointer(&ack[0])), 1)
	_, _, errno = unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(pathp)), uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])))
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
	return errno
}
