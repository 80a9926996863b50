package initproc

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// SyncFd is the fd of the sync socket shared with the runtime; ExtraFd is the
// first runtime-passed fd after it (the exec fifo, for create).
const (
	SyncFd  = 3
	FifoFd  = 4
	firstFd = 5 // fds from here on are the user's --preserve-fds
)

// Main runs init and never returns on success (it execs the workload).
func Main() int {
	runtime.LockOSThread() // credentials, caps and no_new_privs are per thread: keep one
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("trustbox-init\x00")[0])), 0, 0, 0)
	// Go hands ExtraFiles over without close-on-exec: set it on the runtime's
	// own fds so they can never reach the workload (CVE-2024-21626).
	unix.CloseOnExec(SyncFd)
	unix.CloseOnExec(FifoFd)
	syncSock = os.NewFile(SyncFd, "sync")
	cfg, err := readConfig(syncSock)
	if err == nil {
		err = run(syncSock, cfg)
	}
	// run only returns on failure: report it to the runtime, which cleans up;
	// once started, nobody listens there any more, so the workload's stderr
	// gets it instead.
	if started {
		fmt.Fprintf(os.Stderr, "trustbox init: %v\n", err)
	} else {
		send(syncSock, config.Message{Type: "error", Error: err.Error()})
	}
	return 1
}

func newNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t && ns.Path == "" {
			return true
		}
	}
	return false
}

// started is set once `start` released init: errors then go to stderr.
var started bool

// syncSock is the socket to the runtime; finalize may move it to a higher fd.
var syncSock *os.File

// rootfsMount is the id-mapped rootfs mount the runtime sent, if any;
// premade holds the id-mapped bind mounts it made, by mount index.
var (
	rootfsMount *os.File
	premade     = map[int]*os.File{}
	received    []*os.File
	// premadeCgroup and premadeDevice are the runtime's read-only binds of
	// v1 cgroup directories (by hierarchy key) and of device nodes (by path).
	premadeCgroup = map[string]*os.File{}
	premadeDevice = map[string]*os.File{}
)

func readConfig(sync *os.File) (*config.Init, error) {
	// Size the buffer to the message (MSG_PEEK|MSG_TRUNC returns its full
	// length): an oversized one grows the heap past the first GC goal and
	// starts a collection before init has done anything.
	size, _, err := unix.Recvfrom(int(sync.Fd()), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
	if err != nil {
		return nil, fmt.Errorf("read init config: %w", err)
	}
	buf := make([]byte, size)
	oob := make([]byte, unix.CmsgSpace(4*253)) // SCM_MAX_FD: the runtime never sends more
	n, oobn, flags, _, err := unix.Recvmsg(int(sync.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("read init config: %w", err)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return nil, fmt.Errorf("read init config: message truncated")
	}
	if oobn > 0 {
		if cm, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(cm) > 0 {
			if fds, err := unix.ParseUnixRights(&cm[0]); err == nil {
				for _, fd := range fds {
					received = append(received, os.NewFile(uintptr(fd), "idmapped-mount"))
				}
			}
		}
	}
	c, err := config.Decode(buf[:n])
	if err != nil {
		return nil, fmt.Errorf("decode init config: %w", err)
	}
	want := len(c.IdmappedMounts) + len(c.PremadeCgroups) + len(c.PremadeDevices)
	if c.RootfsIdmapped {
		want++
	}
	if len(received) != want {
		return nil, fmt.Errorf("init config: %d mount fds received, %d expected", len(received), want)
	}
	fds := received
	if c.RootfsIdmapped {
		rootfsMount, fds = fds[0], fds[1:]
	}
	for _, idx := range c.IdmappedMounts {
		premade[idx], fds = fds[0], fds[1:]
	}
	for _, key := range c.PremadeCgroups {
		premadeCgroup[key], fds = fds[0], fds[1:]
	}
	for _, p := range c.PremadeDevices {
		premadeDevice[p], fds = fds[0], fds[1:]
	}
	return c, nil
}

func send(sync *os.File, m config.Message) error {
	b, _ := json.Marshal(m)
	_, err := sync.Write(b)
	return err
}

func sendFd(sync *os.File, m config.Message, fd int) error {
	b, _ := json.Marshal(m)
	return unix.Sendmsg(int(sync.Fd()), b, unix.UnixRights(fd), nil, 0)
}

func run(sync *os.File, c *config.Init) error {
	s := c.Spec
	if !c.Exec && newNamespace(s, specs.CgroupNamespace) {
		// The runtime put us in our cgroup before sending the config: make it
		// the root of a new cgroup namespace (this thread's, the one that execs).
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	if !c.Exec {
		setup := setupRootfs
		if c.SharedMounts {
			setup = enterSharedMounts
		}
		if err := setup(c); err != nil {
			return err
		}
	}
	if _, err := unix.Setsid(); err != nil && !c.Exec {
		return fmt.Errorf("setsid: %w", err)
	}
	if s.Process.Terminal {
		if err := setupConsole(sync, c.Exec, s.Process.ConsoleSize); err != nil {
			return err
		}
	}
	if err := setProcessAttrs(s.Process, s.Linux); err != nil {
		return err
	}
	if err := send(sync, config.Message{Type: "ready", Pid: os.Getpid()}); err != nil {
		return fmt.Errorf("report ready: %w", err)
	}
	if !c.Exec {
		if err := waitForStart(); err != nil {
			return err
		}
		started = true
		if err := runHooks(s.Hooks, "startContainer", c.State); err != nil {
			return err
		}
	}
	return finalize(sync, c)
}
