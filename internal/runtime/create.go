package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/exeseal"
	"github.com/trustbox/trustbox/internal/policy"
	"github.com/trustbox/trustbox/internal/spec"
)

// CreateOptions are runc's create/run flags.
type CreateOptions struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	PreserveFds   int
	NoPivot       bool
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	// Baseline hardens or refuses the config; nil means policy.Default().
	Baseline *policy.Baseline
	// Seccomp compiles the config's filter (nil: no filter is installed).
	Seccomp func(*specs.Spec) ([]config.SockFilter, uint, error)
	// SeccompLearning says a listener-asking filter is the learning one,
	// answered by this process (run --seccomp-learn), not by the profile's
	// listenerPath agent.
	SeccompLearning bool
	// Vtpm asks for a vTPM: "" defers to the org.trustbox.vtpm annotation,
	// "true" uses the default manager, "unix:PATH" or a path another one.
	Vtpm string
	// Overlap (run) lets the state saved at "created", the pid file and the
	// create event be written while the container starts: StartCreated
	// releases init first and then waits for them. Create without it
	// (create) returns only once they are written, for whoever runs start.
	Overlap bool
	// Warn receives findings worth a warning (unknown fields, a config weaker
	// than the secure default); Debug the baseline's enforcements.
	Warn  func(string)
	Debug func(string)
}

// Container is a created container whose init waits for start.
type Container struct {
	State *State
	// Cmd is set when this process is init's parent (run), so it can wait.
	Cmd *exec.Cmd
	// Pty is the console master when the process has a terminal and no console socket was given.
	Pty *os.File
	// Sync stays open when init will send a seccomp listener (learning mode).
	Sync *os.File
	// forked: init is the constructor's child (a joined or new pid namespace
	// entered after a joined user namespace), adopted by this subreaper.
	forked    bool
	Decisions []policy.Decision
	// settled delivers the outcome of the writes CreateOptions.Overlap
	// deferred (nil: nothing deferred); unlock releases the container's
	// lock, which create then still holds.
	settled chan error
	unlock  func()
	// cgroupID is the identity of the cgroup create made, as recorded on
	// the state dir: DeleteExited and DeleteFailed act only while the state
	// dir at the path still records it, not on a container someone deleted
	// and made again with the same ID (a state dir's inode is reused at
	// once; a cgroup's kernfs id is not).
	cgroupID uint64
}

// settle waits for the writes create deferred (CreateOptions.Overlap).
func (c *Container) settle() error {
	if c.settled == nil {
		return nil
	}
	err := <-c.settled
	c.settled = nil
	return err
}

// Create sets up a container and leaves its init blocked until Start.
func (r *Runtime) Create(o CreateOptions) (c *Container, err error) {
	if err := CheckID(o.ID); err != nil {
		return nil, err
	}
	b, err := spec.Load(o.Bundle)
	if err != nil {
		r.audit("refuse", o.ID, map[string]any{"reason": err.Error()})
		return nil, err
	}
	if b.Spec.Process == nil {
		return nil, fmt.Errorf("%s/config.json: process: missing (create needs a process to run)", b.Dir)
	}
	lsm := spec.DetectLSM()
	if err := errors.Join(spec.CheckLSMLabels(b.Spec.Process, lsm), spec.CheckMountLabel(b.Spec.Linux, lsm)); err != nil {
		return nil, fmt.Errorf("%s/config.json: %w", b.Dir, err)
	}
	warn := o.Warn
	if warn == nil {
		warn = func(string) {}
	}
	if len(b.Unknown.Paths) > 0 {
		warn(fmt.Sprintf("config.json: unknown fields ignored (OCI: runtimes ignore unknown properties): %s", b.Unknown))
	}
	base := o.Baseline
	if base == nil {
		base = policy.Default()
	}
	decisions := base.Apply(b.Spec)
	if refused := policy.Refusals(decisions); len(refused) > 0 {
		msgs := make([]string, len(refused))
		for i, d := range refused {
			msgs[i] = d.String()
		}
		err := fmt.Errorf("%s/config.json refused by the trustbox baseline: %s", b.Dir, strings.Join(msgs, "; "))
		r.audit("refuse", o.ID, map[string]any{"reason": err.Error()})
		return nil, err
	}
	for _, d := range decisions {
		if d.Action == policy.Warned {
			warn("baseline: " + d.String())
		} else if o.Debug != nil {
			o.Debug(fmt.Sprintf("baseline %s %s", d.Action, d.String()))
		}
	}
	var filter []config.SockFilter
	var sflags uint
	if o.Seccomp != nil {
		if filter, sflags, err = o.Seccomp(b.Spec); err != nil {
			return nil, fmt.Errorf("%s/config.json: linux.seccomp: %w", b.Dir, err)
		}
	}
	jm, err := r.joinMount(b.Spec)
	if err != nil {
		err = fmt.Errorf("%s/config.json: %w", b.Dir, err)
		r.audit("refuse", o.ID, map[string]any{"reason": err.Error()})
		return nil, err
	}
	if jm != nil && vtpmSocket(&o, b.Spec) != "" {
		jm.ns.Close()
		return nil, fmt.Errorf("%s/config.json: a vTPM adds a device and a mount, which a container sharing another's mount namespace cannot have", b.Dir)
	}
	if jm != nil {
		defer jm.ns.Close()
		if jm.owner.Rootfs != b.Rootfs {
			warn(fmt.Sprintf("config.json: root.path %s is not used: the container's root is that of container %s (%s), whose mount namespace it joins", b.Rootfs, jm.owner.ID, jm.owner.Rootfs))
		}
	}
	if err := os.MkdirAll(r.Root, 0o700); err != nil {
		return nil, fmt.Errorf("state root %s: %w", r.Root, err)
	}
	if err := os.Mkdir(r.dir(o.ID), 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %s already exists", o.ID)
		}
		return nil, fmt.Errorf("state dir: %w", err)
	}
	// Held until create returns: a `delete` meanwhile waits for a state to
	// read instead of finding a container half made.
	unlock, err := r.lock(o.ID)
	if err != nil {
		// Not removed: if the lock failed because the directory was
		// replaced meanwhile, the one at the path is someone else's.
		return nil, err
	}
	keepLock := false // Overlap hands the lock to StartCreated
	defer func() {
		if !keepLock {
			unlock()
		}
	}()
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			r.audit("create-failed", o.ID, map[string]any{"error": err.Error()})
		}
	}()
	undo = append(undo, func() { os.RemoveAll(r.dir(o.ID)) })
	st := &State{
		State: specs.State{Version: specs.Version, ID: o.ID, Status: "creating", Bundle: b.Dir,
			Annotations: b.Spec.Annotations},
		Created: time.Now().UTC(), Owner: "root", Rootfs: b.Rootfs, Spec: b.Spec,
		UserNS: spec.HasNamespace(b.Spec, specs.UserNamespace),
	}
	if jm != nil {
		st.Rootfs, st.MountOwner = jm.owner.Rootfs, jm.owner.ID
	}
	cg, err := r.newCgroup(st, b.Spec)
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() { cg.Signal(unix.SIGKILL); waitEmpty(cg); cg.Destroy() })
	ip := &initProc{r: r, o: &o, st: st, cg: cg, filter: filter, sflags: sflags, mnt: jm}
	// While the kernel clones and execs init, make its v1 cgroups: init
	// waits in its constructor until it has joined them (ADR 0001). Then,
	// while init's Go runtime starts, set the device rules, save the state
	// and attach the vTPM: init reads its config only after all of that.
	c, err = ip.start(func() error {
		if err := r.setupCgroup(cg, b.Spec); err != nil {
			return err
		}
		return r.markCgroup(st.ID, cg) // on a v1-only host, the tracking hierarchy exists now
	}, func() error {
		if err := cg.Set(&specs.LinuxResources{Devices: b.Spec.Linux.Resources.Devices}); err != nil {
			return fmt.Errorf("linux.resources: %w", err)
		}
		if sock := vtpmSocket(&o, b.Spec); sock != "" {
			st.VtpmSocket = sock
		}
		// Saved before the vTPM exists, so `delete --force` finds it (and the
		// cgroup, which the state dir's xattr also names) if we are killed;
		// saved without init's pid, so that until the container is set up
		// (the save at "created") nobody can take it for a created one: init
		// is still in a copy of the host's mount namespace, and exec or a
		// join of that namespace would land on the host's root.
		creating := *st
		creating.Pid, creating.StartTime = 0, 0
		if err := r.save(&creating); err != nil {
			return err
		}
		if st.VtpmSocket != "" {
			att, err := r.attachVtpm(st.VtpmSocket, st, filter, cg)
			if err != nil {
				return err
			}
			undo = append(undo, func() { r.destroyVtpm(st) })
			r.audit("vtpm-attach", o.ID, map[string]any{"socket": st.VtpmSocket, "dir": att.HostDir})
		}
		// The spec is final (the vTPM added its mounts and environment):
		// marshal it now, off the critical path, for the save at "created".
		return st.freezeSpec()
	})
	if c != nil && c.Cmd != nil {
		cmd := c.Cmd
		forked, pid := c.forked, c.State.Pid
		undo = append(undo, func() {
			cmd.Process.Kill()
			cmd.Wait()
			if forked { // the constructor's child may not be in the cgroup yet
				var ws unix.WaitStatus
				unix.Kill(pid, unix.SIGKILL)
				linuxWait(pid, &ws)
			}
		})
	}
	if err != nil {
		return nil, err
	}
	c.Decisions = decisions
	c.cgroupID, _ = r.markedCgroup(o.ID)
	record := func(st *State) error {
		if err := r.save(st); err != nil {
			return err
		}
		if o.PidFile != "" {
			if err := writePidFile(o.PidFile, st.Pid); err != nil {
				return err
			}
		}
		r.audit("create", o.ID, map[string]any{"bundle": b.Dir, "pid": st.Pid, "userns": st.UserNS, "baseline": decisions})
		return nil
	}
	if o.Overlap {
		// A copy, as it is now: start changes the live one meanwhile. The
		// lock stays held until StartCreated has waited for the writes, so
		// nobody sees the container between create and start.
		snap := *st
		c.settled = make(chan error, 1)
		go func() { c.settled <- record(&snap) }()
		c.unlock, keepLock = unlock, true
		return c, nil
	}
	if err := record(st); err != nil {
		return nil, err
	}
	return c, nil
}

// newCgroup prepares the container's cgroup and makes the part init is
// cloned into (v2); setupCgroup makes the rest.
func (r *Runtime) newCgroup(st *State, s *specs.Spec) (*cgroups.Manager, error) {
	path := s.Linux.CgroupsPath
	if path == "" {
		path = "/trustbox/" + st.ID
	}
	cg, err := cgroups.New(path)
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	if err := cg.Check(s.Linux.Resources); err != nil {
		return nil, err
	}
	// The check and the claim are one step for every create under this
	// root: two creates given one cgroupsPath at once must not both pass.
	release, err := r.lockCgroups()
	if err != nil {
		return nil, err
	}
	if other := r.cgroupOverlap(st.ID, cg.Path); other != "" {
		release()
		return nil, fmt.Errorf("linux.cgroupsPath: %s overlaps the cgroup of container %s: containers never share or nest cgroups (deleting one would kill the other)", cg.Path, other)
	}
	// Before anything is created: the clean-up of a failed create kills
	// whatever is in the cgroup, which must never be someone else's.
	if err := cg.RefuseShared(); err != nil {
		release()
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	// Named on the state dir, then with its identity once made: other
	// creates see it, and `delete` kills only in this very cgroup, also
	// when we are killed before the first save.
	err = r.markCgroup(st.ID, cg)
	release()
	if err != nil {
		return nil, err
	}
	if err := cg.CreateV2(); err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	if err := r.markCgroup(st.ID, cg); err != nil {
		cg.Destroy()
		return nil, err
	}
	st.CgroupPath, st.CgroupDirs = cg.Path, cg.Dirs
	return cg, nil
}

// setupCgroup makes the v1 cgroups, which init joins, and completes the
// device rules in the spec: the OCI defaults unless the config has rules,
// and the harmless nodes always (as runc). The runtime sets the rules while
// init's Go runtime starts, before init reads its config and so before it
// does anything the container asked for (R-TRUST-5); the limits wait until
// init is ready, as in runc: a small pids.max would refuse init's threads.
func (r *Runtime) setupCgroup(cg *cgroups.Manager, s *specs.Spec) error {
	if err := cg.CreateV1(); err != nil {
		return err
	}
	res := s.Linux.Resources
	if res == nil {
		res = &specs.LinuxResources{}
		s.Linux.Resources = res
	}
	if len(res.Devices) == 0 {
		res.Devices = cgroups.DefaultDevices() // deny all but the harmless nodes (R-TRUST-5)
	} else {
		res.Devices = append(res.Devices, cgroups.DefaultDevices()[1:]...) // as runc: the harmless nodes always work
	}
	return nil
}

func writePidFile(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	return nil
}

// sealedInit returns the command that runs the container's init: through a
// read-only detached mount of the executable, so the container can never
// write it (CVE-2019-5736, docs/adr/0005). image is the fd to keep open until
// the process has started (nil: /proc/self/exe itself).
func sealedInit(extra []*os.File, env []string, s *specs.Spec) (cmd *exec.Cmd, image *os.File, err error) {
	if image, err = initImage(s); err != nil {
		return nil, nil, err
	}
	path := "/proc/self/exe"
	if image != nil {
		// Passed as the last extra file and exec'd at its number in the
		// child: Go's child moves fds around before execve and may reuse
		// the number the file has here (seen with many extra files: EACCES
		// from exec'ing a namespace fd). Init marks it close-on-exec with
		// every other fd before the workload runs.
		extra = append(extra, image)
		path = fmt.Sprintf("/proc/self/fd/%d", 2+len(extra))
	}
	cmd = &exec.Cmd{
		Path:        path,
		Args:        []string{"trustbox", "init"},
		Env:         env,
		ExtraFiles:  extra,
		SysProcAttr: &syscall.SysProcAttr{},
	}
	return cmd, image, nil
}

// initImage picks what init runs from: trustbox-init, the init alone, when
// it was built with this binary (docs/adr/0006), else trustbox itself; each
// through a read-only detached mount. Where the kernel cannot make one
// (before 5.12): a sealed memfd copy when the container could write the
// binary, else the binary itself (ADR 0003).
func initImage(s *specs.Spec) (*os.File, error) {
	if small := initBinary(); small != nil {
		if f, err := exeseal.ReadOnlyFile(small); err == nil {
			return f, nil
		}
	}
	if f, err := exeseal.ReadOnly(); err == nil {
		return f, nil
	}
	if needSeal(s) {
		return exeseal.Copy()
	}
	return nil, nil
}

func needSeal(s *specs.Spec) bool {
	if !spec.HasNamespace(s, specs.UserNamespace) || len(s.Linux.UIDMappings) == 0 {
		return true
	}
	mapped := func(maps []specs.LinuxIDMapping) func(uint32) bool {
		return func(id uint32) bool {
			for _, m := range maps {
				if id >= m.HostID && id-m.HostID < m.Size {
					return true
				}
			}
			return false
		}
	}
	w, err := exeseal.WritableFrom(mapped(s.Linux.UIDMappings), mapped(s.Linux.GIDMappings))
	return w || err != nil
}

func closeIf(f *os.File) {
	if f != nil {
		f.Close()
	}
}

func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// Wait waits for the container's init (this process must be its parent or
// subreaper) and returns its exit status, 128+signal when it was killed.
func (c *Container) Wait() (int, error) {
	if !c.forked {
		err := c.Cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal()), nil
			}
			return ee.ExitCode(), nil
		case err != nil:
			return 1, err
		}
		return 0, nil
	}
	var ws unix.WaitStatus
	if err := linuxWait(c.State.Pid, &ws); err != nil {
		return 1, err
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}
