package initproc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/linux"
)

// waitForStart blocks until `trustbox start` opens the exec fifo for reading.
// The fifo is reopened through the host procfs handle taken before pivot_root.
func waitForStart() error {
	f, err := linux.Openat2(int(procSelfFd.Fd()), strconv.Itoa(FifoFd), unix.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer f.Close()
	if _, err := f.Write([]byte{0}); err != nil {
		return fmt.Errorf("write exec fifo: %w", err)
	}
	procSelfFd.Close()
	return nil
}

// finalize drops privileges in the kernel's required order and execs the
// workload: groups and ids, capabilities, no_new_privs, cwd (verified inside
// the rootfs), fd cleanup, seccomp last.
func finalize(sync *os.File, c *config.Init) error {
	p := c.Spec.Process
	path, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return err
	}
	if err := setScheduling(p, c.Spec.Linux); err != nil {
		return err
	}
	if err := setUser(p.User); err != nil {
		return err
	}
	if err := applyCaps(p.Capabilities); err != nil {
		return err
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
	}
	if err := chdirInside(p.Cwd); err != nil {
		return err
	}
	if err := passPreservedFds(sync, preserveFds()); err != nil {
		return err
	}
	if err := setExecLabel(p); err != nil {
		return err
	}
	if len(c.Seccomp) > 0 && c.SeccompFlags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		if c.SeccompAgentFd > 0 {
			return execNotify(c.Seccomp, c.SeccompFlags, c.SeccompAgentFd, c.SeccompState, path, p.Args, p.Env)
		}
		return execLearning(c.Seccomp, c.SeccompFlags, path, p.Args, p.Env)
	}
	if len(c.Seccomp) > 0 {
		if err := installSeccomp(c.Seccomp, c.SeccompFlags); err != nil {
			return err
		}
	}
	err = unix.Exec(path, p.Args, p.Env)
	return fmt.Errorf("exec %s: %w", p.Args[0], err)
}

// passPreservedFds moves --preserve-fds from 5.. down to 3.. (where runc
// puts them) and marks every other fd close-on-exec. The sync socket is
// first moved out of the way so the runtime still sees it close at execve.
func passPreservedFds(sync *os.File, n int) error {
	if n > 0 {
		hi, err := unix.FcntlInt(sync.Fd(), unix.F_DUPFD_CLOEXEC, firstFd+n)
		if err != nil {
			return fmt.Errorf("preserve fds: %w", err)
		}
		syncSock = os.NewFile(uintptr(hi), "sync")
		for i := 0; i < n; i++ {
			if err := unix.Dup3(firstFd+i, 3+i, 0); err != nil {
				return fmt.Errorf("preserve fd %d: %w", 3+i, err)
			}
		}
	}
	if err := linux.CloseRangeFrom(3 + n); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	return nil
}

func preserveFds() int {
	n, _ := strconv.Atoi(os.Getenv("_TRUSTBOX_PRESERVE_FDS"))
	return n
}

func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := unix.Access(name, unix.X_OK); err != nil {
			return "", fmt.Errorf("process.args[0] %s: %w", name, err)
		}
		return name, nil
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		cand := filepath.Join(dir, name)
		if st, err := os.Stat(cand); err == nil && st.Mode().IsRegular() && unix.Access(cand, unix.X_OK) == nil {
			return cand, nil
		}
	}
	return "", fmt.Errorf("process.args[0] %q: executable file not found in $PATH", name)
}

// setUser sets supplementary groups, gid and uid on this thread (the one
// that execs); PR_SET_KEEPCAPS keeps the permitted set for applyCaps.
func setUser(u specs.User) error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keepcaps: %w", err)
	}
	gids := make([]uint32, len(u.AdditionalGids))
	copy(gids, u.AdditionalGids)
	var ptr unsafe.Pointer
	if len(gids) > 0 {
		ptr = unsafe.Pointer(&gids[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), uintptr(ptr), 0); e != 0 && !(e == unix.EPERM && len(gids) == 0) {
		return fmt.Errorf("process.user.additionalGids %v: setgroups: %w", u.AdditionalGids, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID)); e != 0 {
		return fmt.Errorf("process.user.gid %d: %w (is it mapped in the user namespace?)", u.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID)); e != 0 {
		return fmt.Errorf("process.user.uid %d: %w (is it mapped in the user namespace?)", u.UID, e)
	}
	return nil
}

// chdirInside changes to cwd and verifies the result is inside the
// container's root (CVE-2024-21626: a leaked host fd must not become the cwd).
func chdirInside(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("process.cwd %s: %w", cwd, err)
	}
	got, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(got, "/") {
		return fmt.Errorf("process.cwd %s resolves outside the container root (%q): refusing (CVE-2024-21626)", cwd, got)
	}
	return nil
}
