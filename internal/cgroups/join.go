package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// A container's init is started before most of its cgroup exists: the
// runtime makes the v1 cgroups while the kernel execs init. Only the v2
// cgroup, which clone3 puts init into (CLONE_INTO_CGROUP), must exist first
// (CreateV2, CreateV1).

// RefuseShared refuses, in any hierarchy, a cgroup that already holds
// processes or has child cgroups, or that would lie inside a cgroup
// holding processes: a container never shares one, and its clean-up kills
// and removes its whole subtree, which must be all its own. Call it before
// creating anything.
func (m *Manager) RefuseShared() error {
	for _, h := range m.hiers {
		dir := m.Dirs[h.Key()]
		for up := filepath.Dir(dir); len(up) > len(h.Mountpoint); up = filepath.Dir(up) {
			if pids, err := procs(up); err == nil && len(pids) > 0 {
				return fmt.Errorf("cgroup %s would lie inside %s, which holds processes %v: refusing to nest in it", dir, up, pids)
			}
		}
		if err := refuseShared(dir); err != nil {
			return err
		}
	}
	return nil
}

// refuseShared refuses an existing cgroup with a child cgroup or a process
// in it (none exists: fine).
func refuseShared(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list cgroup %s: %w", dir, err)
	}
	for _, e := range ents {
		if e.IsDir() {
			return fmt.Errorf("cgroup %s already has child cgroups (%s): refusing to adopt a subtree that is not the container's", dir, e.Name())
		}
	}
	pids, err := procs(dir)
	if err != nil {
		return err
	}
	if len(pids) > 0 {
		return fmt.Errorf("cgroup %s already holds processes %v: refusing to share it", dir, pids)
	}
	return nil
}

// Join holds what lets a new process enter the container's cgroup as it
// starts, without the global threadgroup lock whose first writer waits for
// an RCU grace period (a pid written to cgroup.procs pays it): each v1
// hierarchy's "tasks" file, which the process, still single-threaded,
// writes "0" to (nsenter's constructor does); and the v2 directory, for
// clone3's CLONE_INTO_CGROUP. Both are opened here, by host root: the kernel
// checks the opener's credentials, not the writer's.
type Join struct {
	Tasks []*os.File // v1 "tasks" files, write-only
	Dir   *os.File   // the v2 cgroup directory, or nil on a v1-only host
}

// OpenJoin opens the files a new process needs to join the existing cgroup
// (exec); create hands init the v1 files later, by message (OpenTasks).
func (m *Manager) OpenJoin() (*Join, error) {
	dir, err := m.OpenV2()
	if err != nil {
		return nil, err
	}
	tasks, err := m.OpenTasks()
	if err != nil {
		if dir != nil {
			dir.Close()
		}
		return nil, err
	}
	return &Join{Tasks: tasks, Dir: dir}, nil
}

// Close closes the runtime's copies of the files.
func (j *Join) Close() {
	for _, f := range j.Tasks {
		f.Close()
	}
	if j.Dir != nil {
		j.Dir.Close()
	}
}

// OpenV2 opens the v2 cgroup directory for CLONE_INTO_CGROUP; nil on a
// v1-only host.
func (m *Manager) OpenV2() (*os.File, error) {
	for _, h := range m.hiers {
		if h.V2 {
			dir := m.Dirs[h.Key()]
			f, err := os.OpenFile(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("join cgroup %s: %w", dir, err)
			}
			return f, nil
		}
	}
	return nil, nil
}

// OpenTasks opens every v1 hierarchy's "tasks" file for writing, for a
// single-threaded process to write "0" to (see Join).
func (m *Manager) OpenTasks() ([]*os.File, error) {
	var out []*os.File
	for _, h := range m.hiers {
		if h.V2 {
			continue
		}
		p := filepath.Join(m.Dirs[h.Key()], "tasks")
		f, err := os.OpenFile(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("join cgroup %s: %w", filepath.Dir(p), err)
		}
		out = append(out, f)
	}
	return out, nil
}
