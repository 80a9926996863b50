package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/nsenter"
)

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace: unix.CLONE_NEWPID, specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace: unix.CLONE_NEWNS, specs.IPCNamespace: unix.CLONE_NEWIPC,
	specs.UTSNamespace: unix.CLONE_NEWUTS, specs.UserNamespace: unix.CLONE_NEWUSER,
	specs.CgroupNamespace: unix.CLONE_NEWCGROUP, specs.TimeNamespace: unix.CLONE_NEWTIME,
}

// initProc drives one container init from fork to "ready".
type initProc struct {
	r      *Runtime
	o      *CreateOptions
	st     *State
	cg     *cgroups.Manager
	filter []config.SockFilter
	sflags uint
	// mnt is the mount namespace joined by path, nil for a new one.
	mnt *joinedMount
}

// start launches init and, while the kernel clones and execs it, runs
// meanwhile (what init's constructor waits for: its v1 cgroups); then it
// hands init its v1 cgroups, runs whileInitStarts while init's Go runtime
// starts (init reads its config only after it), and drives init to "ready".
// On an error after init started, the returned Container carries the Cmd,
// for the caller to kill.
func (ip *initProc) start(meanwhile, whileInitStarts func() error) (*Container, error) {
	s := ip.st.Spec
	fifo, err := ip.makeFifo()
	if err != nil {
		return nil, err
	}
	defer fifo.Close()
	parentSock, childSock, err := socketPair()
	if err != nil {
		return nil, err
	}
	listener := ip.sflags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
	keepSync := listener && ip.o.SeccompLearning
	defer func() {
		if !keepSync {
			parentSock.Close()
		}
	}()
	extra := []*os.File{childSock, fifo}
	for i := 0; i < ip.o.PreserveFds; i++ {
		extra = append(extra, os.NewFile(uintptr(3+i), "preserved"))
	}
	agentFd := 0
	if listener && !ip.o.SeccompLearning {
		agent, err := dialAgent(s)
		if err != nil {
			childSock.Close()
			return nil, err
		}
		defer agent.Close()
		agentFd = 3 + len(extra)
		extra = append(extra, agent)
	}
	hostProcFd := 0
	if ip.mnt != nil {
		// Init enters the shared mount namespace before its Go code runs,
		// so it cannot open the host's /proc itself (see initproc.procSelfFd).
		proc, err := os.OpenFile("/proc", unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil {
			childSock.Close()
			return nil, fmt.Errorf("open /proc: %w", err)
		}
		defer proc.Close()
		hostProcFd = 3 + len(extra)
		extra = append(extra, proc)
	}
	attr := &syscall.SysProcAttr{}
	joins, names, unshare, err := ip.namespaces(attr)
	if err != nil {
		childSock.Close()
		return nil, err
	}
	defer closeAll(joins)
	env := []string{"_TRUSTBOX_PRESERVE_FDS=" + strconv.Itoa(ip.o.PreserveFds)}
	if len(joins) > 0 {
		var list []string
		for i, f := range joins {
			list = append(list, fmt.Sprintf("%s=%d", names[i], 3+len(extra)))
			extra = append(extra, f)
		}
		env = append(env, nsenter.EnvNS+"="+strings.Join(list, ","))
	}
	// Cloned into the v2 cgroup; the v1 tasks files follow by message once
	// meanwhile has made them (handOverCgroups).
	v2, err := ip.cg.OpenV2()
	if err != nil {
		childSock.Close()
		return nil, err
	}
	join := &cgroups.Join{Dir: v2}
	defer join.Close()
	extra, env = joinCgroup(join, attr, extra, env)
	env = append(env, nsenter.EnvSync+"=3", nsenter.EnvCgroup+"="+nsenter.CgroupRecv)
	forks := false
	if unshare != 0 || slices.Contains(names, "user") || slices.Contains(names, "pid") {
		forks = slices.Contains(names, "pid") || unshare&(unix.CLONE_NEWPID|unix.CLONE_NEWTIME) != 0
		env = append(env, nsenter.EnvUnshare+"="+strconv.FormatUint(uint64(unshare), 10))
		if unshare&unix.CLONE_NEWTIME != 0 {
			env = append(env, nsenter.EnvTimens+"="+timensOffsets(s.Linux.TimeOffsets))
		}
		// The constructor forks into the pid namespace: adopt the child.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			childSock.Close()
			return nil, fmt.Errorf("subreaper: %w", err)
		}
	}
	cmd, image, err := sealedInit(extra, env, s)
	if err != nil {
		childSock.Close()
		return nil, err
	}
	defer closeIf(image)
	cmd.SysProcAttr = attr
	cmd.Stdin, cmd.Stdout, cmd.Stderr = orStd(ip.o.Stdin, os.Stdin), orStd(ip.o.Stdout, os.Stdout), orStd(ip.o.Stderr, os.Stderr)
	started := make(chan error, 1)
	go func() { started <- startPinned(cmd, s.Process) }()
	merr := meanwhile()
	err = <-started
	childSock.Close()
	if err != nil {
		return nil, fmt.Errorf("start init: %w", err)
	}
	c := &Container{State: ip.st, Cmd: cmd}
	if keepSync {
		c.Sync = parentSock
	}
	ip.st.Pid = cmd.Process.Pid
	if merr != nil {
		return c, merr
	}
	if err := ip.handOverCgroups(parentSock); err != nil {
		return c, initError(parentSock, err)
	}
	if unshare&unix.CLONE_NEWUSER != 0 {
		if err := ip.writeMaps(parentSock, cmd.Process.Pid); err != nil {
			return c, err
		}
	}
	if forks {
		m, _, err := recvMsg(parentSock)
		werr := cmd.Wait() // the intermediate exits once it has forked
		switch {
		case err != nil:
			return c, fmt.Errorf("container init: %w (%v)", err, werr)
		case m.Type == "error":
			return c, errors.New(m.Error)
		case m.Type != "pid" || m.Pid <= 0:
			return c, fmt.Errorf("container init: unexpected message %q", m.Type)
		}
		ip.st.Pid, c.forked = m.Pid, true
		if err := ip.ownFifoInJoinedUserns(); err != nil {
			return c, err
		}
	}
	if ip.st.StartTime, _, err = procStat(ip.st.Pid); err != nil {
		return c, fmt.Errorf("init exited at once: %w", err)
	}
	if p := s.Process; p.OOMScoreAdj != nil {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", ip.st.Pid), []byte(strconv.Itoa(*p.OOMScoreAdj)), 0); err != nil {
			return c, fmt.Errorf("process.oomScoreAdj: %w", err)
		}
	}
	if err := whileInitStarts(); err != nil {
		return c, err
	}
	ip.st.Status = specs.StateCreating
	cfg := config.Init{ID: ip.st.ID, Spec: config.ForInit(s), Rootfs: ip.st.Rootfs, NoPivot: ip.o.NoPivot,
		CgroupDirs: ip.cg.Dirs, UserNS: ip.st.UserNS, State: marshal(ip.st.State),
		Seccomp: ip.filter, SeccompFlags: ip.sflags,
		RuntimeHooks: s.Hooks != nil && len(s.Hooks.Prestart)+len(s.Hooks.CreateRuntime) > 0,
		SharedMounts: ip.mnt != nil, HostProcFd: hostProcFd}
	if agentFd > 0 {
		cfg.SeccompAgentFd = agentFd
		st := ip.st.State
		st.Status = specs.StateRunning
		cfg.SeccompState = marshal(specs.ContainerProcessState{Version: specs.Version, Fds: []string{specs.SeccompFdName},
			Pid: ip.st.Pid, Metadata: s.Linux.Seccomp.ListenerMetadata, State: st})
	}
	if err := ip.sendConfig(parentSock, &cfg); err != nil {
		return c, initError(parentSock, err)
	}
	if err := ip.awaitReady(parentSock, c); err != nil {
		return c, err
	}
	// Init joined the cgroup itself (CLONE_INTO_CGROUP, then the v1 tasks
	// files handOverCgroups sent); confirm it before the container counts as
	// created: limits that did not apply must not pass silently (fail closed).
	if err := ip.cg.Contains(ip.st.Pid); err != nil {
		return c, fmt.Errorf("container init: %w", err)
	}
	// The limits apply before the workload's first instruction but after
	// init's own start-up (its Go threads, its allocations): a pids.max of 5
	// is the workload's, not init's. The device rules are already set.
	if res := s.Linux.Resources; res != nil {
		limits := *res
		limits.Devices = nil
		if err := ip.cg.Set(&limits); err != nil {
			return c, fmt.Errorf("linux.resources: %w", err)
		}
	}
	ip.st.Status = specs.StateCreated
	return c, nil // Create saves it
}

// handOverCgroups sends init, waiting in its constructor, the v1 cgroups'
// tasks files to join (none on a v2-only host): the go-ahead to run.
func (ip *initProc) handOverCgroups(sock *os.File) error {
	tasks, err := ip.cg.OpenTasks()
	if err != nil {
		return err
	}
	fds := make([]int, len(tasks))
	for i, f := range tasks {
		defer f.Close()
		fds[i] = int(f.Fd())
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(sock.Fd()), []byte(`{"type":"cgroup"}`), oob, nil, 0); err != nil {
		return fmt.Errorf("hand init its cgroups: %w", err)
	}
	return nil
}

// joinCgroup makes the process about to start enter the container's cgroup
// as it starts: clone3 puts it in the v2 cgroup (CLONE_INTO_CGROUP) and the
// nsenter constructor writes "0" to each v1 tasks file before anything else
// runs in it. Neither takes the cgroup attach's global lock, whose first
// writer waits for an RCU grace period, the largest single cost of starting
// a container on a v1 or hybrid host (bench/README.md).
func joinCgroup(j *cgroups.Join, attr *syscall.SysProcAttr, extra []*os.File, env []string) ([]*os.File, []string) {
	if j.Dir != nil {
		attr.UseCgroupFD, attr.CgroupFD = true, int(j.Dir.Fd())
	}
	if len(j.Tasks) == 0 {
		return extra, env
	}
	fds := make([]string, len(j.Tasks))
	for i, f := range j.Tasks {
		fds[i] = strconv.Itoa(3 + len(extra))
		extra = append(extra, f)
	}
	return extra, append(env, nsenter.EnvCgroup+"="+strings.Join(fds, ","))
}

// initError prefers the reason a child reported on the sync socket (it
// wrote it before exiting) to the broken pipe that sending to it met.
func initError(sock *os.File, err error) error {
	var buf [4096]byte
	n, _, rerr := unix.Recvfrom(int(sock.Fd()), buf[:], unix.MSG_DONTWAIT)
	if rerr != nil || n == 0 {
		return err
	}
	var m config.Message
	if json.Unmarshal(buf[:n], &m) == nil && m.Type == "error" {
		return errors.New(m.Error)
	}
	return err
}

func orStd(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

// namespaces asks the kernel for every new namespace at clone time and maps
// ids; namespaces joined by path are opened here and joined by the nsenter
// constructor in the child before its Go runtime starts (ADR 0001). When a
// user or pid namespace is joined, the new namespaces must belong to (or
// live inside) it: the constructor then creates them itself after joining
// (unshare), and forks into the pid namespace.
func (ip *initProc) namespaces(attr *syscall.SysProcAttr) (joins []*os.File, names []string, unshare uintptr, err error) {
	s := ip.st.Spec
	byName := map[string]*os.File{}
	fail := func(e error) ([]*os.File, []string, uintptr, error) {
		for _, f := range byName {
			f.Close()
		}
		return nil, nil, 0, e
	}
	var flags uintptr
	for _, ns := range s.Linux.Namespaces {
		if ns.Path == "" {
			if ns.Type != specs.CgroupNamespace { // init unshares it once inside its cgroup
				flags |= nsFlags[ns.Type]
			}
			continue
		}
		if ns.Type == specs.MountNamespace {
			byName["mnt"] = ip.mnt.ns // opened and checked by joinMount
			continue
		}
		f, err := os.Open(ns.Path)
		if err != nil {
			return fail(fmt.Errorf("linux.namespaces: %s namespace: %w", ns.Type, err))
		}
		byName[nsFile[ns.Type]] = f
	}
	for _, n := range nsOrder { // user first: its owner rights let the others be joined
		if f := byName[n]; f != nil {
			joins, names = append(joins, f), append(names, n)
		}
	}
	// A joined user or pid namespace must be entered before the new
	// namespaces are made: the constructor does it (ADR 0001). It also makes
	// a new user namespace (the runtime writes its maps when asked): Go would
	// have to fork the whole runtime for CLONE_NEWUSER, while with no clone
	// flags it uses vfork. And a new time namespace with offsets: they can
	// only be set before a process enters it.
	deep := byName["user"] != nil || byName["pid"] != nil || flags&unix.CLONE_NEWUSER != 0 ||
		(flags&unix.CLONE_NEWTIME != 0 && len(s.Linux.TimeOffsets) > 0)
	if deep {
		return joins, names, flags, nil
	}
	attr.Cloneflags = flags
	for _, m := range s.Linux.UIDMappings {
		attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	for _, m := range s.Linux.GIDMappings {
		attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	attr.GidMappingsEnableSetgroups = true
	if len(attr.UidMappings) > 0 {
		// Become the namespace's root: the host uid 0 we run as is not mapped in it.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	}
	return joins, names, 0, nil
}

// timensOffsets formats linux.timeOffsets as /proc/PID/timens_offsets
// takes them ("monotonic SECS NANOSECS" lines, clocks in a fixed order).
func timensOffsets(offs map[string]specs.LinuxTimeOffset) string {
	var b strings.Builder
	for _, clock := range []string{"monotonic", "boottime"} {
		if o, ok := offs[clock]; ok {
			fmt.Fprintf(&b, "%s %d %d\n", clock, o.Secs, o.Nanosecs)
		}
	}
	return b.String()
}

// makeFifo creates the exec fifo that holds init until start, owned by the
// container's root so init can reopen it from inside its user namespace.
func (ip *initProc) makeFifo() (*os.File, error) {
	path := ip.r.dir(ip.st.ID) + "/exec.fifo"
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return nil, fmt.Errorf("exec fifo: %w", err)
	}
	uid, gid := hostID(ip.st.Spec.Linux.UIDMappings, 0), hostID(ip.st.Spec.Linux.GIDMappings, 0)
	if err := os.Chown(path, uid, gid); err != nil {
		return nil, fmt.Errorf("exec fifo: %w", err)
	}
	f, err := os.OpenFile(path, unix.O_PATH, 0)
	if err != nil {
		return nil, fmt.Errorf("exec fifo: %w", err)
	}
	return f, nil
}

// hostID maps a container id to the host through a mapping (identity without one).
func hostID(maps []specs.LinuxIDMapping, id uint32) int {
	for _, m := range maps {
		if id >= m.ContainerID && id < m.ContainerID+m.Size {
			return int(m.HostID + id - m.ContainerID)
		}
	}
	return int(id)
}
