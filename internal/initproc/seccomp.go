package initproc

import (
	"encoding/binary"
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
	filters, fprog := sockFprog(prog)
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("install seccomp filter (%d instructions): %w", len(filters), errno)
	}
	return nil
}

func sockFprog(prog []config.SockFilter) ([]unix.SockFilter, unix.SockFprog) {
	filters := make([]unix.SockFilter, len(prog))
	for i, f := range prog {
		filters[i] = unix.SockFilter{Code: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	return filters, unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
}

// rawExec is everything execve needs, built before a filter is loaded: after
// that, init may not allocate or make any call the filter could notify.
type rawExec struct {
	path      *byte
	argv, env []*byte
	filters   []unix.SockFilter
	fprog     unix.SockFprog
}

func prepareRawExec(prog []config.SockFilter, path string, argv, env []string) (*rawExec, error) {
	ex := &rawExec{}
	var err error
	if ex.argv, err = syscall.SlicePtrFromStrings(argv); err != nil {
		return nil, err
	}
	if ex.env, err = syscall.SlicePtrFromStrings(env); err != nil {
		return nil, err
	}
	if ex.path, err = syscall.BytePtrFromString(path); err != nil {
		return nil, err
	}
	ex.filters, ex.fprog = sockFprog(prog)
	return ex, nil
}

// execLearning is the end of init in learning mode. The filter notifies the
// runtime of every call outside the base profile, and nobody answers until
// the runtime holds the listener: so after loading it (on this thread only)
// init makes nothing but raw write, read and execve, which the learning
// filter always allows. It tells the runtime the listener's fd number (the
// runtime takes it with pidfd_getfd), waits for its ack, and execs.
func execLearning(prog []config.SockFilter, flags uint, path string, argv, env []string) error {
	ex, err := prepareRawExec(prog, path, argv, env)
	if err != nil {
		return err
	}
	fprog := ex.fprog
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
	_, _, errno = unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(ex.path)), uintptr(unsafe.Pointer(&ex.argv[0])), uintptr(unsafe.Pointer(&ex.env[0])))
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
	return errno
}

// execNotify is the end of init for an SCMP_ACT_NOTIFY profile: after loading
// the filter it makes only raw sendmsg (the OCI seccomp state and the
// listener, SCM_RIGHTS, to the agent at listenerPath, whose connection the
// runtime opened) and execve. A profile that notifies sendmsg or execve
// itself would wait on an agent that has no listener yet.
func execNotify(prog []config.SockFilter, flags uint, agentFd int, state []byte, path string, argv, env []string) error {
	ex, err := prepareRawExec(prog, path, argv, env)
	if err != nil {
		return err
	}
	if len(state) == 0 {
		return fmt.Errorf("seccomp agent: no state to send")
	}
	fprog := ex.fprog
	oob := unix.UnixRights(0) // the listener's number is patched in once known
	iov := unix.Iovec{Base: &state[0]}
	iov.SetLen(len(state))
	msg := unix.Msghdr{Iov: &iov, Iovlen: 1, Control: &oob[0]}
	msg.SetControllen(len(oob))
	fd, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("install seccomp filter with listener: %w", errno)
	}
	binary.NativeEndian.PutUint32(oob[unix.CmsgLen(0):], uint32(fd))
	if _, _, errno := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(agentFd), uintptr(unsafe.Pointer(&msg)), 0); errno != 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 126, 0, 0)
	}
	_, _, errno = unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(ex.path)), uintptr(unsafe.Pointer(&ex.argv[0])), uintptr(unsafe.Pointer(&ex.env[0])))
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
	return errno
}
