package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	learnEnv   = "TRUSTBOX_SECCOMP_LEARN_CHILD"
	learnArgv0 = "trustbox-seccomp-learn"
)

// RecordCommand runs argv on this host under CompileLearning(base), with
// rec supervising, and returns the command's exit status. A helper (this
// binary re-executed; the command is not a container, so the CVE-2019-5736
// concern does not apply) installs the filter on one thread, hands the
// listener over and execs argv.
func RecordCommand(argv []string, base *Profile, opts Options, rec *Recording, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(argv) == 0 {
		return -1, fmt.Errorf("record: no command given")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return -1, fmt.Errorf("record: %w", err)
	}
	prog, err := CompileLearning(base, opts)
	if err != nil {
		return -1, fmt.Errorf("record: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("record: socketpair: %w", err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "learn-parent"), os.NewFile(uintptr(fds[1]), "learn-child")
	defer parent.Close()
	cmd := exec.Command("/proc/self/exe", append([]string{path}, argv...)...)
	cmd.Args[0] = learnArgv0
	cmd.Env = append(os.Environ(), learnEnv+"=3")
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		child.Close()
		return -1, fmt.Errorf("record: start helper: %w", err)
	}
	child.Close()
	lfd, err := handshake(parent, cmd.Process.Pid, prog)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return -1, fmt.Errorf("record: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- rec.Supervise(lfd) }()
	werr := cmd.Wait()
	if err := <-done; err != nil {
		return -1, err
	}
	var ee *exec.ExitError
	switch {
	case werr == nil:
		return 0, nil
	case errors.As(werr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return -1, fmt.Errorf("record: wait: %w", werr)
}

// handshake sends the program, takes the listener out of the helper with
// pidfd_getfd and releases the helper to execve.
func handshake(sock *os.File, pid int, prog *Program) (int, error) {
	buf := make([]byte, 4+8*len(prog.Filter))
	binary.NativeEndian.PutUint32(buf, uint32(len(prog.Filter)))
	for i, in := range prog.Filter {
		o := 4 + 8*i
		binary.NativeEndian.PutUint16(buf[o:], in.Code)
		buf[o+2], buf[o+3] = in.Jt, in.Jf
		binary.NativeEndian.PutUint32(buf[o+4:], in.K)
	}
	if _, err := sock.Write(buf); err != nil {
		return -1, fmt.Errorf("send filter to helper: %w", err)
	}
	var num [4]byte
	if _, err := io.ReadFull(sock, num[:]); err != nil {
		return -1, fmt.Errorf("helper did not report its listener (filter refused?): %w", err)
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	lfd, err := unix.PidfdGetfd(pidfd, int(int32(binary.NativeEndian.Uint32(num[:]))), 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_getfd of the listener: %w", err)
	}
	if _, err := sock.Write([]byte{1}); err != nil {
		unix.Close(lfd)
		return -1, fmt.Errorf("release helper: %w", err)
	}
	return lfd, nil
}

// MaybeLearnChild is the helper side of RecordCommand; it returns at once
// unless this process was started as that helper. Call it first in main
// (the CLI calls it from an init function).
func MaybeLearnChild() {
	if os.Getenv(learnEnv) != "3" || len(os.Args) < 3 || os.Args[0] != learnArgv0 {
		return
	}
	runtime.LockOSThread()
	os.Exit(learnChild(os.Args[1], os.Args[2:]))
}

func learnChild(path string, argv []string) int {
	sock := os.NewFile(3, "learn-child")
	var hdr [4]byte
	if _, err := io.ReadFull(sock, hdr[:]); err != nil {
		return 126
	}
	raw := make([]byte, 8*binary.NativeEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(sock, raw); err != nil || len(raw) == 0 {
		return 126
	}
	filter := make([]unix.SockFilter, len(raw)/8)
	for i := range filter {
		o := 8 * i
		filter[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(raw[o:]), Jt: raw[o+2], Jf: raw[o+3], K: binary.NativeEndian.Uint32(raw[o+4:])}
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return 126
	}
	envp, err := syscall.SlicePtrFromStrings(cleanEnv())
	if err != nil {
		return 126
	}
	pathp, err := syscall.BytePtrFromString(path)
	if err != nil {
		return 126
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return 126
	}
	// From here on only raw read, write, execve and exit: the filter lets
	// them through without a supervisor, and nothing else may run.
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	lfd, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flagNewListener, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return 126
	}
	var num [4]byte
	binary.NativeEndian.PutUint32(num[:], uint32(lfd))
	unix.RawSyscall(unix.SYS_WRITE, 3, uintptr(unsafe.Pointer(&num[0])), 4)
	var ack [1]byte
	unix.RawSyscall(unix.SYS_READ, 3, uintptr(unsafe.Pointer(&ack[0])), 1)
	unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(pathp)), uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])))
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
	return 127
}

func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if len(kv) < len(learnEnv) || kv[:len(learnEnv)] != learnEnv {
			out = append(out, kv)
		}
	}
	return out
}
