package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/nsenter"
	"github.com/trustbox/trustbox/internal/policy"
	"github.com/trustbox/trustbox/internal/spec"
)

// ExecOptions are runc's exec flags.
type ExecOptions struct {
	Process       *specs.Process
	PidFile       string
	ConsoleSocket string
	Detach        bool
	PreserveFds   int
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	Seccomp       func(*specs.Spec) ([]config.SockFilter, uint, error)
	// OnPty receives the pty master of a terminal process when no console
	// socket was given (the caller proxies its own terminal); it owns it.
	OnPty func(*os.File)
}

// nsOrder is the order namespaces are joined: user first, so the others'
// owner grants the capabilities setns needs.
var nsOrder = []string{"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"}

var nsFile = map[specs.LinuxNamespaceType]string{
	specs.UserNamespace: "user", specs.CgroupNamespace: "cgroup", specs.IPCNamespace: "ipc",
	specs.UTSNamespace: "uts", specs.NetworkNamespace: "net", specs.PIDNamespace: "pid",
	specs.MountNamespace: "mnt", specs.TimeNamespace: "time",
}

// Exec runs a new process in a running container and, unless detached,
// returns its exit status.
func (r *Runtime) Exec(id string, o ExecOptions) (int, error) {
	st, err := r.Load(id)
	if err != nil {
		return 1, err
	}
	if st.Status != specs.StateRunning && st.Status != specs.StateCreated {
		return 1, fmt.Errorf("container %s is %s: exec needs a running container", id, st.Status)
	}
	s := *st.Spec
	s.Process = o.Process
	ds := policy.Default().Apply(&s)
	if refused := policy.Refusals(ds); len(refused) > 0 {
		err := fmt.Errorf("exec in %s refused by the trustbox baseline: %s", id, refused[0])
		r.audit("refuse", id, map[string]any{"reason": err.Error()})
		return 1, err
	}
	if err := spec.CheckLSMLabels(s.Process, spec.DetectLSM()); err != nil {
		return 1, fmt.Errorf("exec process: %w", err)
	}
	if err := spec.Validate(&s, st.Rootfs); err != nil {
		return 1, fmt.Errorf("exec process: %w", err)
	}
	nsfds, names, err := openNamespaces(st)
	if err != nil {
		return 1, err
	}
	defer closeAll(nsfds)
	// The process nsenter forks into the pid namespace is re-parented to us.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 1, fmt.Errorf("exec: subreaper: %w", err)
	}
	x := &execProc{r: r, st: st, o: &o, spec: &s}
	if o.Seccomp != nil {
		if x.filter, x.flags, err = o.Seccomp(x.spec); err != nil {
			return 1, fmt.Errorf("exec: seccomp: %w", err)
		}
	}
	pid, err := x.start(nsfds, names)
	if err != nil {
		return 1, err
	}
	r.audit("exec", id, map[string]any{"pid": pid, "args": o.Process.Args})
	if o.Detach {
		return 0, nil
	}
	var ws unix.WaitStatus
	if err := linuxWait(pid, &ws); err != nil {
		return 1, err
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

func linuxWait(pid int, ws *unix.WaitStatus) error {
	for {
		_, err := unix.Wait4(pid, ws, 0, nil)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// openNamespaces opens the container's namespaces through its init, then
// checks init is still the same process, so a recycled pid is never joined.
func openNamespaces(st *State) ([]*os.File, []string, error) {
	have := map[string]bool{}
	for _, ns := range st.Spec.Linux.Namespaces {
		have[nsFile[ns.Type]] = true
	}
	var fds []*os.File
	var names []string
	for _, n := range nsOrder {
		if !have[n] {
			continue
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", st.Pid, n))
		if err != nil {
			closeAll(fds)
			return nil, nil, fmt.Errorf("exec: open %s namespace of %s: %w", n, st.ID, err)
		}
		fds = append(fds, f)
		names = append(names, n)
	}
	if !alive(st.Pid, st.StartTime) {
		closeAll(fds)
		return nil, nil, fmt.Errorf("exec: container %s stopped", st.ID)
	}
	return fds, names, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

type execProc struct {
	r       *Runtime
	st      *State
	o       *ExecOptions
	spec    *specs.Spec
	filter  []config.SockFilter
	flags   uint
	agentFd int
}

func (x *execProc) start(nsfds []*os.File, names []string) (int, error) {
	parentSock, childSock, err := socketPair()
	if err != nil {
		return 0, err
	}
	defer parentSock.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		childSock.Close()
		return 0, err
	}
	defer devnull.Close()
	extra := []*os.File{childSock, devnull}
	for i := 0; i < x.o.PreserveFds; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	if x.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		// The exec'd process gets its own listener for the profile's agent, as init's.
		agent, err := dialAgent(x.spec)
		if err != nil {
			childSock.Close()
			return 0, err
		}
		defer agent.Close()
		x.agentFd = 3 + len(extra)
		extra = append(extra, agent)
	}
	var list []string
	for i, f := range nsfds {
		list = append(list, fmt.Sprintf("%s=%d", names[i], 3+len(extra)))
		extra = append(extra, f)
	}
	env := []string{nsenter.EnvSync + "=3", nsenter.EnvNS + "=" + strings.Join(list, ","),
		"_TRUSTBOX_PRESERVE_FDS=" + strconv.Itoa(x.o.PreserveFds)}
	cg, err := x.r.ownedCgroup(x.st)
	var join *cgroups.Join
	if err == nil {
		join, err = cg.OpenJoin()
	}
	if err != nil {
		childSock.Close()
		return 0, fmt.Errorf("exec: join cgroup: %w", err)
	}
	defer join.Close()
	attr := &syscall.SysProcAttr{}
	extra, env = joinCgroup(join, attr, extra, env)
	cmd, image, err := sealedInit(extra, env, x.spec)
	if err != nil {
		childSock.Close()
		return 0, err
	}
	cmd.SysProcAttr = attr
	defer closeIf(image)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = orStd(x.o.Stdin, os.Stdin), orStd(x.o.Stdout, os.Stdout), orStd(x.o.Stderr, os.Stderr)
	err = startPinned(cmd, x.spec.Process)
	childSock.Close()
	if err != nil {
		return 0, fmt.Errorf("exec: start: %w", err)
	}
	pid, err := x.handshake(cmd, parentSock, cg)
	if err != nil {
		if pid > 0 {
			_ = unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			_ = linuxWait(pid, &ws)
		}
		return 0, err
	}
	return pid, nil
}

// handshake learns the joined process's pid, puts it in the container's
// cgroup, sends its config and waits until it is about to exec.
func (x *execProc) handshake(cmd *exec.Cmd, sock *os.File, cg *cgroups.Manager) (int, error) {
	m, _, err := recvMsg(sock)
	werr := cmd.Wait() // the intermediate exits once it has forked
	if err != nil {
		return 0, fmt.Errorf("exec: %w (%v)", err, werr)
	}
	if m.Type == "error" {
		return 0, errors.New(m.Error)
	}
	if m.Type != "pid" || m.Pid <= 0 {
		return 0, fmt.Errorf("exec: unexpected message %q from nsenter", m.Type)
	}
	pid := m.Pid
	// The constructor joined the cgroup before the namespaces (joinCgroup).
	if err := cg.Contains(pid); err != nil {
		return pid, fmt.Errorf("exec: join cgroup: %w", err)
	}
	cfg := config.Init{ID: x.st.ID, Spec: config.ForInit(x.spec), Rootfs: x.st.Rootfs, Exec: true, UserNS: x.st.UserNS,
		Seccomp: x.filter, SeccompFlags: x.flags}
	if x.agentFd > 0 {
		st := x.st.State
		cfg.SeccompAgentFd = x.agentFd
		cfg.SeccompState = marshal(specs.ContainerProcessState{Version: specs.Version, Fds: []string{specs.SeccompFdName},
			Pid: pid, Metadata: x.spec.Linux.Seccomp.ListenerMetadata, State: st})
	}
	if _, err := sock.Write(config.Encode(&cfg)); err != nil {
		return pid, fmt.Errorf("exec: send config: %w", err)
	}
	ip := &initProc{o: &CreateOptions{ConsoleSocket: x.o.ConsoleSocket}}
	c := &Container{}
	if err := ip.awaitReady(sock, c); err != nil {
		return pid, err
	}
	if c.Pty != nil {
		if x.o.OnPty != nil {
			x.o.OnPty(c.Pty)
		} else {
			c.Pty.Close()
		}
	}
	// After ready, the socket closes at execve (close-on-exec) or carries an error.
	if m, _, err := recvMsg(sock); err == nil && m.Type == "error" {
		return pid, errors.New(m.Error)
	}
	if x.o.PidFile != "" {
		if err := writePidFile(x.o.PidFile, pid); err != nil {
			return pid, err
		}
	}
	return pid, nil
}

// BaseProcess returns a copy of the container's own process, the template
// `exec` overrides (args, env, cwd, user, capabilities).
func (r *Runtime) BaseProcess(id string) (*specs.Process, error) {
	st, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	p := *st.Spec.Process
	p.Env = append([]string{}, p.Env...)
	p.Terminal = false
	if p.Capabilities != nil {
		c := *p.Capabilities
		p.Capabilities = &c
	}
	return &p, nil
}
