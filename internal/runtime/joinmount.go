package runtime

import (
	"fmt"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// joinedMount is the mount namespace a container joins by path, held open
// from the check to the join, and the live container that owns it.
type joinedMount struct {
	ns    *os.File
	owner *State
}

// joinMount opens the mount namespace linux.namespaces names by path (nil
// if the container gets a new one) and finds the container it belongs to.
//
// A joined mount namespace is shared as it is: init neither mounts nor
// pivots in it, which would change the other container too (runc does
// both). So the namespace must be a running trustbox container's under this
// state root, which got the baseline's masking and read-only kernel
// filesystems when it was made; anything else, the host's namespace first
// of all, is refused (R-ISO-3, R-LSM-g). The namespace is identified from
// the open file, which is the one init joins: a path that changes after the
// check cannot swap it.
func (r *Runtime) joinMount(s *specs.Spec) (*joinedMount, error) {
	var path string
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			path = ns.Path
		}
	}
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("linux.namespaces: mount namespace: %w", err)
	}
	owner, err := r.mountOwner(f)
	if err == nil {
		err = sharesBaseline(s, owner)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &joinedMount{ns: f, owner: owner}, nil
}

// mountOwner returns the live container whose init is in the mount
// namespace ns.
func (r *Runtime) mountOwner(ns *os.File) (*State, error) {
	var want unix.Stat_t
	if err := unix.Fstat(int(ns.Fd()), &want); err != nil {
		return nil, fmt.Errorf("linux.namespaces: mount namespace %s: %w", ns.Name(), err)
	}
	var statfs unix.Statfs_t
	if err := unix.Fstatfs(int(ns.Fd()), &statfs); err != nil || statfs.Type != unix.NSFS_MAGIC {
		return nil, fmt.Errorf("linux.namespaces: %s is not a namespace file", ns.Name())
	}
	// The host's namespace, or the runtime's own, is never a container's;
	// say so plainly (the search below would refuse it too).
	for _, own := range []string{"/proc/self/ns/mnt", "/proc/1/ns/mnt"} {
		var host unix.Stat_t
		if unix.Stat(own, &host) == nil && host.Dev == want.Dev && host.Ino == want.Ino {
			return nil, fmt.Errorf("linux.namespaces: %s is the host's mount namespace: a container may not join it (R-ISO-3)", ns.Name())
		}
	}
	all, err := r.List()
	if err != nil {
		return nil, fmt.Errorf("linux.namespaces: mount namespace %s: %w", ns.Name(), err)
	}
	for _, st := range all {
		if st.Status != specs.StateCreated && st.Status != specs.StateRunning && st.Status != "paused" {
			continue
		}
		var got unix.Stat_t
		if unix.Stat(fmt.Sprintf("/proc/%d/ns/mnt", st.Pid), &got) != nil || got.Dev != want.Dev || got.Ino != want.Ino {
			continue
		}
		// The pid was the container's init when stat ran only if it still
		// is now (same start time): otherwise it may be a reused pid.
		if !alive(st.Pid, st.StartTime) {
			continue
		}
		// Only a container that is set up: its init has left the copy of
		// the host's tree it starts in (state.json gets init's pid only at
		// "created", and this checks it on the kernel's side too).
		var hostRoot, root unix.Stat_t
		if unix.Stat("/", &hostRoot) != nil || unix.Stat(fmt.Sprintf("/proc/%d/root", st.Pid), &root) != nil ||
			(root.Dev == hostRoot.Dev && root.Ino == hostRoot.Ino) {
			return nil, fmt.Errorf("linux.namespaces: container %s, whose mount namespace is at %s, is not set up yet (R-ISO-3)", st.ID, ns.Name())
		}
		return st, nil
	}
	return nil, fmt.Errorf("linux.namespaces: the mount namespace at %s is not a running trustbox container's under %s: "+
		"a container may share only a mount namespace trustbox set up with the baseline (R-ISO-3, R-LSM-g)", ns.Name(), r.Root)
}

// sharesBaseline refuses what the joining config asks for and the shared
// namespace does not have: init cannot mask or remount in it (R-LSM-g).
func sharesBaseline(s *specs.Spec, owner *State) error {
	have := owner.Spec.Linux
	for _, p := range s.Linux.MaskedPaths {
		if !slices.Contains(have.MaskedPaths, p) {
			return fmt.Errorf("linux.maskedPaths: %s is not masked in the mount namespace of container %s, which this container joins and cannot change (R-LSM-g)", p, owner.ID)
		}
	}
	for _, p := range s.Linux.ReadonlyPaths {
		if !slices.Contains(have.ReadonlyPaths, p) && !slices.Contains(have.MaskedPaths, p) {
			return fmt.Errorf("linux.readonlyPaths: %s is not read-only in the mount namespace of container %s, which this container joins and cannot change (R-LSM-g)", p, owner.ID)
		}
	}
	if s.Root != nil && s.Root.Readonly && (owner.Spec.Root == nil || !owner.Spec.Root.Readonly) {
		return fmt.Errorf("root.readonly: the root of container %s, whose mount namespace this container joins, is writable", owner.ID)
	}
	return nil
}
