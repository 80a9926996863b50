package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/linux"
	"github.com/trustbox/trustbox/internal/spec"
)

func (r *Runtime) cgroup(st *State) (*cgroups.Manager, error) {
	return cgroups.Load(st.CgroupPath, st.CgroupDirs)
}

// Start releases a created container's init to exec the workload.
func (r *Runtime) Start(id string) error {
	unlock, err := r.lock(id)
	if err != nil {
		return err
	}
	st, err := r.loadLocked(id)
	if err == nil {
		err = r.start(st)
	}
	if err == nil {
		r.audit("start", st.ID, map[string]any{"pid": st.Pid})
	}
	unlock()
	if err != nil {
		return err
	}
	return poststart(st)
}

// StartCreated starts the container this process just created (run): the
// state in memory is the saved one, so it is not read back. The exec fifo,
// which only create makes and only start or delete removes, still proves
// under the lock that nobody started or deleted it meanwhile.
func (r *Runtime) StartCreated(c *Container) error {
	unlock, err := c.unlock, error(nil) // held since create (Overlap)
	if unlock == nil {
		unlock, err = r.lock(c.State.ID)
	}
	c.unlock = nil
	if err == nil {
		err = r.start(c.State)
	}
	// The workload is released: now wait for what create deferred
	// (CreateOptions.Overlap), so the start event follows the create event.
	if serr := c.settle(); err == nil {
		err = serr
	}
	if err == nil {
		r.audit("start", c.State.ID, map[string]any{"pid": c.State.Pid})
	}
	if unlock != nil {
		unlock()
	}
	if err != nil {
		return err
	}
	return poststart(c.State)
}

func (r *Runtime) start(st *State) error {
	id := st.ID
	if st.Status != specs.StateCreated {
		return fmt.Errorf("container %s is %s: only a created container can be started", id, st.Status)
	}
	path := filepath.Join(r.dir(id), "exec.fifo")
	f, err := os.OpenFile(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("start %s: exec fifo: %w", id, err)
	}
	defer f.Close()
	pidfd, err := linux.PidfdOpen(st.Pid)
	if err != nil {
		return fmt.Errorf("start %s: init is gone: %w", id, err)
	}
	defer unix.Close(pidfd)
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	if err := linux.Retry(func() error { _, e := unix.Poll(fds, -1); return e }); err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	if fds[0].Revents&unix.POLLIN == 0 {
		return fmt.Errorf("start %s: container init exited before start", id)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("start %s: %w", id, err)
	}
	st.Status = specs.StateRunning
	return nil
}

// poststart runs the poststart hooks, after start has released the
// container's lock: a hook may run trustbox on this very container (`delete
// --force` on a failure, as with runc), which would otherwise wait for the
// lock that start holds while start waits for the hook.
//
// A failing hook stops the container (OCI: "generate an error, stop the
// container"; runc kills init): its status becomes stopped, and the
// caller's delete follows.
func poststart(st *State) error {
	err := runHostHooks(st.Spec.Hooks, "poststart", marshal(st.State))
	if err != nil {
		stopInit(st)
	}
	return err
}

// stopInit kills the container's init and waits (bounded) until it has
// exited, so that the container is stopped when the caller returns.
func stopInit(st *State) { _ = signalInitWait(st, unix.SIGKILL, true) }

// ownedCgroup is the container's cgroup for what acts on the processes in
// it (kill --all, pause, update, exec): refused when the cgroup at the path
// is no longer the one the container was created in.
func (r *Runtime) ownedCgroup(st *State) (*cgroups.Manager, error) {
	cg, err := r.cgroup(st)
	if err != nil {
		return nil, err
	}
	if !r.ownCgroup(st.ID, st.CgroupPath, cg) {
		return nil, fmt.Errorf("container %s: the cgroup at %s is no longer the one it was created in", st.ID, st.CgroupPath)
	}
	return cg, nil
}

// Kill sends sig to the container's init, or to every process with all.
func (r *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	st, err := r.Load(id)
	if err != nil {
		return err
	}
	r.audit("kill", id, map[string]any{"signal": int(sig), "all": all})
	if all {
		cg, err := r.ownedCgroup(st)
		if err != nil {
			return err
		}
		return cg.Signal(sig)
	}
	if st.Status == specs.StateStopped || st.Status == specs.StateCreating {
		return fmt.Errorf("container %s is %s, not running", id, st.Status)
	}
	return signalInit(st, sig)
}

// signalInit signals through a pidfd checked against the saved start time, so a recycled pid is never hit.
func signalInit(st *State, sig unix.Signal) error { return signalInitWait(st, sig, false) }

// signalInitWait is signalInit, then, with wait, a wait of at most 5 s for
// init to exit (its pidfd turns readable).
func signalInitWait(st *State, sig unix.Signal, wait bool) error {
	pidfd, err := linux.PidfdOpen(st.Pid)
	if err != nil {
		return fmt.Errorf("container %s: %w", st.ID, err)
	}
	defer unix.Close(pidfd)
	if !alive(st.Pid, st.StartTime) {
		return fmt.Errorf("container %s is not running", st.ID)
	}
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal container %s: %w", st.ID, err)
	}
	if wait {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		return linux.Retry(func() error { _, e := unix.Poll(fds, 5000); return e })
	}
	return nil
}

// Delete removes a stopped container; force kills a live one first.
func (r *Runtime) Delete(id string, force bool) error {
	if err := CheckID(id); err != nil {
		return err
	}
	unlock, err := r.lock(id)
	if errors.Is(err, ErrNotExist) && force {
		return nil
	}
	if err != nil {
		return err
	}
	st, err := r.loadLocked(id)
	if err != nil {
		defer unlock()
		if force {
			return r.deleteOrphan(id)
		}
		return err
	}
	err = r.delete(st, force)
	unlock()
	if err != nil {
		return err
	}
	r.poststop(st)
	return nil
}

// deleteOrphan removes a container whose create was killed before it saved
// its state: the cgroup named on its state dir, and whatever runs in it,
// but only while that cgroup is the one create made (same identity) and no
// other container here names it; otherwise it is left alone.
func (r *Runtime) deleteOrphan(id string) error {
	if ino, path := r.markedCgroup(id); path != "" && ino != 0 && r.cgroupOverlap(id, path) == "" {
		if cg, err := cgroups.New(path); err == nil && cg.Identity() == ino {
			_ = cg.Signal(unix.SIGKILL)
			waitEmpty(cg)
			if err := cg.Destroy(); err != nil {
				return fmt.Errorf("delete %s: %w", id, err)
			}
		}
	}
	if err := os.RemoveAll(r.dir(id)); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	r.audit("delete", id, map[string]any{"force": true, "orphan": true})
	return nil
}

// DeleteExited removes the container whose init this process (run) has
// just waited for: its state is known, stopped, and not read back.
func (r *Runtime) DeleteExited(c *Container) error { return r.deleteOwn(c, true) }

// DeleteFailed removes, killing what runs in it, the container this
// process created but could not start or run (run's clean-up).
func (r *Runtime) DeleteFailed(c *Container) error { return r.deleteOwn(c, false) }

// deleteOwn deletes the container c, unless it was deleted meanwhile and
// another made with its ID (a poststart hook, which runs unlocked, may do
// both): that one is not ours to remove.
func (r *Runtime) deleteOwn(c *Container, exited bool) error {
	unlock, err := r.lock(c.State.ID)
	if errors.Is(err, ErrNotExist) {
		return nil // deleted meanwhile by someone else
	}
	if err != nil {
		return err
	}
	if ino, _ := r.markedCgroup(c.State.ID); ino != c.cgroupID {
		unlock()
		return nil
	}
	st := *c.State
	if exited {
		st.Status = specs.StateStopped
	}
	err = r.delete(&st, true)
	unlock()
	if err != nil {
		return err
	}
	r.poststop(&st)
	return nil
}

func (r *Runtime) delete(st *State, force bool) error {
	id := st.ID
	if st.Status != specs.StateStopped && st.Status != specs.StateCreated && !force {
		return fmt.Errorf("container %s is %s: stop it first or use --force", id, st.Status)
	}
	if st.Status != specs.StateStopped {
		_ = signalInit(st, unix.SIGKILL) // by pidfd, after the start-time check
	}
	cg, err := r.cgroup(st)
	if err == nil && !r.ownCgroup(id, st.CgroupPath, cg) {
		// Someone else's now (made again at the path, or overlapping
		// another container's): leave it and what runs in it alone.
		r.audit("cgroup-left", id, map[string]any{"cgroup": st.CgroupPath})
		err = errors.New("not this container's cgroup")
	}
	if err == nil {
		if st.Status == "paused" {
			_ = cg.Thaw()
		}
		_ = cg.Signal(unix.SIGKILL)
		waitEmpty(cg)
		if err := cg.Destroy(); err != nil {
			return err
		}
	}
	if err := r.destroyVtpm(st); err != nil {
		r.audit("vtpm-destroy-failed", id, map[string]any{"error": err.Error()})
		if !force {
			return err
		}
	}
	if err := os.RemoveAll(r.dir(id)); err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	r.audit("delete", id, map[string]any{"force": force})
	return nil
}

// poststop runs the poststop hooks of a container just deleted, after its
// lock is released (OCI: after the deletion, before delete returns; runc
// runs them once the state is gone too): a hook may run trustbox on the
// same ID without waiting for the lock until its timeout. A failing hook is
// audited, not returned: the container is gone either way.
func (r *Runtime) poststop(st *State) {
	if st.Spec == nil {
		return
	}
	st.Status = specs.StateStopped
	if err := runHostHooks(st.Spec.Hooks, "poststop", marshal(st.State)); err != nil {
		r.audit("hook-failed", st.ID, map[string]any{"error": err.Error()})
	}
}

// waitEmpty waits (bounded) until the cgroup has no processes left. The v1
// hierarchy offers no event for that, so it polls with backoff.
func waitEmpty(cg *cgroups.Manager) {
	delay := 100 * time.Microsecond
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		pids, err := cg.Pids()
		if err != nil || len(pids) == 0 {
			return
		}
		time.Sleep(delay)
		delay = min(delay*2, 20*time.Millisecond)
	}
}

// Pids lists the container's processes (ps).
func (r *Runtime) Pids(id string) ([]int, error) {
	st, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	cg, err := r.ownedCgroup(st)
	if err != nil {
		return nil, err
	}
	return cg.Pids()
}

// Pause freezes every process of the container; Resume thaws it.
func (r *Runtime) Pause(id string) error  { return r.freeze(id, true) }
func (r *Runtime) Resume(id string) error { return r.freeze(id, false) }

func (r *Runtime) freeze(id string, on bool) error {
	st, err := r.Load(id)
	if err != nil {
		return err
	}
	want := map[bool]specs.ContainerState{true: specs.StateRunning, false: "paused"}[on]
	if st.Status != want {
		return fmt.Errorf("container %s is %s, not %s", id, st.Status, want)
	}
	cg, err := r.ownedCgroup(st)
	if err != nil {
		return err
	}
	r.audit(map[bool]string{true: "pause", false: "resume"}[on], id, nil)
	if on {
		return cg.Freeze()
	}
	return cg.Thaw()
}

// Update applies new resource limits to a live container.
func (r *Runtime) Update(id string, res *specs.LinuxResources) error {
	if err := spec.ValidateResources(res); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	st, err := r.Load(id)
	if err != nil {
		return err
	}
	cg, err := r.ownedCgroup(st)
	if err != nil {
		return err
	}
	r.audit("update", id, map[string]any{"resources": res})
	return cg.Set(res)
}

// Stats returns the container's cgroup statistics.
func (r *Runtime) Stats(id string) (cgroups.Stats, error) {
	st, err := r.Load(id)
	if err != nil {
		return cgroups.Stats{}, err
	}
	cg, err := r.cgroup(st)
	if err != nil {
		return cgroups.Stats{}, err
	}
	return cg.Stats(), nil
}
