package cgroups

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Manager owns one container's cgroup in every hierarchy of the host.
type Manager struct {
	Mode  Mode
	Path  string            // the cgroupsPath, absolute within each hierarchy
	Dirs  map[string]string // hierarchy key -> directory
	hiers []Hierarchy
}

// New prepares (but does not create) the cgroup at path, e.g. "/trustbox/ID".
func New(path string) (*Manager, error) {
	if strings.Contains(path, ":") {
		return nil, fmt.Errorf("cgroupsPath %q: systemd slice:prefix:name paths need --systemd-cgroup, which is not supported yet", path)
	}
	clean := filepath.Clean("/" + path)
	if clean == "/" {
		return nil, fmt.Errorf("cgroupsPath %q: refusing the root cgroup", path)
	}
	mode, hs, err := Detect()
	if err != nil {
		return nil, err
	}
	m := &Manager{Mode: mode, Path: clean, Dirs: map[string]string{}, hiers: hs}
	for _, h := range hs {
		m.Dirs[h.Key()] = filepath.Join(h.Mountpoint, clean)
	}
	return m, nil
}

// Load rebuilds a manager from saved directories (state.json).
func Load(path string, dirs map[string]string) (*Manager, error) {
	mode, hs, err := Detect()
	if err != nil {
		return nil, err
	}
	return &Manager{Mode: mode, Path: path, Dirs: dirs, hiers: hs}, nil
}

// Create makes the cgroup directories (and parents) in every hierarchy.
func (m *Manager) Create() error { return m.create(func(Hierarchy) bool { return true }) }

// CreateV2 makes only the v2 cgroup (none on a v1-only host): the one a new
// init is cloned into (CLONE_INTO_CGROUP), which must exist first.
func (m *Manager) CreateV2() error { return m.create(func(h Hierarchy) bool { return h.V2 }) }

// CreateV1 makes the v1 cgroups, which init joins once they exist.
func (m *Manager) CreateV1() error { return m.create(func(h Hierarchy) bool { return !h.V2 }) }

// create makes the cgroup in the hierarchies selected, and on failure
// removes what it made.
func (m *Manager) create(in func(Hierarchy) bool) error {
	for _, h := range m.hiers {
		if !in(h) {
			continue
		}
		if err := m.mkdir(h, m.Dirs[h.Key()]); err != nil {
			m.Destroy()
			return err
		}
	}
	return nil
}

// enableControllers makes every controller the hierarchy offers available in
// dir. A v2 cgroup has only the controllers its parent lists in
// cgroup.subtree_control, and a new parent (/trustbox) lists none: without
// this, memory.max, cpu.max and pids.max do not exist in the container's
// cgroup and no limit can be set (R-ISO-3). As runc's fs2 manager and
// systemd do, each ancestor from the root down enables in its
// subtree_control what its own cgroup.controllers offers. The leaf enables
// nothing: its processes would make that fail (no internal processes).
// Hybrid hosts skip this: their v2 tree has no controllers, v1 has them.
func enableControllers(root, dir string) error {
	rel, err := filepath.Rel(root, filepath.Dir(dir))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("enable cgroup controllers: %s is not under %s", dir, root)
	}
	cur, rest := root, []string(nil)
	if rel != "." {
		rest = strings.Split(rel, "/")
	}
	for {
		if err := enableIn(cur); err != nil {
			return err
		}
		if len(rest) == 0 {
			return nil
		}
		cur, rest = filepath.Join(cur, rest[0]), rest[1:]
	}
}

// enableIn enables in dir's cgroup.subtree_control the controllers dir has
// and has not enabled yet (read first: most starts find them all enabled,
// and a write would take the cgroup tree's lock for nothing).
func enableIn(dir string) error {
	avail, err := readTrim(dir, "cgroup.controllers")
	if err != nil {
		return fmt.Errorf("enable cgroup controllers in %s: %w", dir, err)
	}
	enabled, err := readTrim(dir, "cgroup.subtree_control")
	if err != nil {
		return fmt.Errorf("enable cgroup controllers in %s: %w", dir, err)
	}
	on := map[string]bool{}
	for _, c := range strings.Fields(enabled) {
		on[c] = true
	}
	var missing []string
	for _, c := range strings.Fields(avail) {
		if !on[c] {
			missing = append(missing, "+"+c)
		}
	}
	if len(missing) == 0 || write(dir, "cgroup.subtree_control", strings.Join(missing, " ")) == nil {
		return nil
	}
	// The kernel applies such a write all or nothing: one controller it
	// refuses (cpu while a realtime task runs outside the root, say) must not
	// keep the others off. A limit that needs a refused controller then fails
	// when it is set, naming its controller (setV2): fail closed, not here.
	for _, c := range missing {
		_ = write(dir, "cgroup.subtree_control", c)
	}
	return nil
}

// mkdir makes dir and its parents in h and, on a pure v2 host, makes the
// controllers reach dir.
func (m *Manager) mkdir(h Hierarchy, dir string) error {
	if err := m.mkdirAll(h, dir); err != nil {
		return err
	}
	if h.V2 && m.Mode == Unified {
		return enableControllers(h.Mountpoint, dir)
	}
	return nil
}

func (m *Manager) mkdirAll(h Hierarchy, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != h.Mountpoint {
		if err := m.mkdirAll(h, parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	if h.Has("cpuset") {
		// A new v1 cpuset is empty: copy the parent's CPUs and nodes or no task can join.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if cur, _ := os.ReadFile(filepath.Join(dir, f)); strings.TrimSpace(string(cur)) != "" {
				continue
			}
			v, err := os.ReadFile(filepath.Join(parent, f))
			if err != nil {
				return fmt.Errorf("cgroup %s: %w", dir, err)
			}
			if err := write(dir, f, strings.TrimSpace(string(v))); err != nil {
				return err
			}
		}
	}
	return nil
}

// Contains reports whether pid is in the container's cgroup in every
// hierarchy, read from /proc/PID/cgroup (paths as this process's cgroup
// namespace sees them).
func (m *Manager) Contains(pid int) error {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return fmt.Errorf("cgroup of %d: %w", pid, err)
	}
	in := map[string]string{} // hierarchy key -> path
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		key := parts[1]
		if parts[0] == "0" && key == "" {
			key = "unified"
		}
		in[key] = parts[2]
	}
	for _, h := range m.hiers {
		if got := in[h.Key()]; got != m.Path {
			return fmt.Errorf("process %d is in cgroup %q of hierarchy %s, not %q", pid, got, h.Key(), m.Path)
		}
	}
	return nil
}

// Pids lists the processes in the container's cgroup.
func (m *Manager) Pids() ([]int, error) { return procsBelow(m.trackingDir()) }

// procsBelow lists the processes in dir and in every cgroup below it (a
// workload may make child cgroups where it is delegated them; they die and
// go with the container's).
func procsBelow(dir string) ([]int, error) {
	var all []int
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil && p != dir && errors.Is(err, os.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil || !d.IsDir() {
			return err
		}
		pids, err := procs(p)
		if err != nil && p != dir && errors.Is(err, os.ErrNotExist) {
			return filepath.SkipDir
		}
		all = append(all, pids...)
		return err
	})
	return all, err
}

// procs lists the processes in one cgroup directory.
func procs(dir string) ([]int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("list cgroup %s: %w", dir, err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

// Identity is the inode of the directory Pids and Signal use: a cgroup
// removed and made again at the same path has another. 0 when it does not
// exist.
func (m *Manager) Identity() uint64 {
	var st unix.Stat_t
	if unix.Stat(m.trackingDir(), &st) != nil {
		return 0
	}
	return st.Ino
}

// trackingDir is the hierarchy used to list and kill: unified where present, else pids or the first.
func (m *Manager) trackingDir() string {
	if d, ok := m.Dirs["unified"]; ok {
		return d
	}
	for _, h := range m.hiers {
		if h.Has("pids") {
			return m.Dirs[h.Key()]
		}
	}
	// The same one in every process (delete compares the identity create
	// recorded): the first key, not whichever a map iteration yields.
	if len(m.Dirs) == 0 {
		return ""
	}
	return m.Dirs[slices.Min(slices.Collect(maps.Keys(m.Dirs)))]
}

// Signal sends sig to every process in the cgroup (kill --all).
func (m *Manager) Signal(sig unix.Signal) error {
	if sig == unix.SIGKILL {
		if d, ok := m.Dirs["unified"]; ok {
			if err := write(d, "cgroup.kill", "1"); err == nil {
				return nil
			}
		}
	}
	frozen := sig == unix.SIGKILL && m.Freeze() == nil
	pids, err := m.Pids()
	for _, p := range pids {
		_ = unix.Kill(p, sig)
	}
	if frozen {
		_ = m.Thaw()
	}
	return err
}

// Destroy removes the cgroup directories. A killed task pins its v1 cgroups
// until its parent reaps it, and the kernel offers no event for that, so
// EBUSY is retried with backoff for a bounded time.
func (m *Manager) Destroy() error {
	var errs []error
	for _, dir := range m.Dirs {
		if err := rmdirTree(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// rmdirTree removes the cgroups below dir, deepest first, then dir: a
// cgroup with a child cannot be removed.
func rmdirTree(dir string) error {
	// Nearly every container's cgroup has no child: one rmdir, and a
	// listing only when it fails (EBUSY also means a child exists).
	err := unix.Rmdir(dir)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EBUSY) {
		return err
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := rmdirTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdirRetry(dir)
}

func rmdirRetry(dir string) error {
	delay := 200 * time.Microsecond
	for deadline := time.Now().Add(5 * time.Second); ; {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// write sets one cgroup file with plain open, write and close: an
// os.File would register each cgroupfs file with Go's poller (four more
// system calls per file, and a container start writes dozens).
func write(dir, file, val string) error {
	p := filepath.Join(dir, file)
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	}
	if err == nil {
		var n int
		n, err = unix.Write(fd, []byte(val))
		for err == unix.EINTR {
			n, err = unix.Write(fd, []byte(val))
		}
		if err == nil && n != len(val) {
			err = fmt.Errorf("short write (%d of %d bytes)", n, len(val))
		}
		unix.Close(fd)
	}
	if err != nil {
		return fmt.Errorf("cgroup write %s=%q: %w", p, val, err)
	}
	return nil
}
