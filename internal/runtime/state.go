package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/linux"
	"github.com/trustbox/trustbox/internal/spec"
)

// State is what trustbox keeps about one container (state.json, mode 0600).
type State struct {
	specs.State
	Created    time.Time         `json:"created"`
	Owner      string            `json:"owner"`
	StartTime  uint64            `json:"pidStartTime"` // guards against pid reuse
	CgroupPath string            `json:"cgroupPath"`
	CgroupDirs map[string]string `json:"cgroupDirs"`
	Rootfs     string            `json:"rootfs"`
	UserNS     bool              `json:"userns"`
	Spec       *specs.Spec       `json:"spec"`
	// MountOwner is the container whose mount namespace this one joined
	// (its Rootfs is then that container's).
	MountOwner string `json:"mountNamespaceOwner,omitempty"`
	// VtpmSocket is the vTPM manager that holds this container's vTPM.
	VtpmSocket string `json:"vtpmSocket,omitempty"`
	// specJSON is Spec marshaled by freezeSpec, once nothing changes it
	// any more: most of what each later save writes.
	specJSON json.RawMessage
}

// freezeSpec marshals the spec for every later save; the caller promises
// the spec no longer changes.
func (st *State) freezeSpec() error {
	b, err := json.Marshal(st.Spec)
	st.specJSON = b
	return err
}

// Runtime is a state root (runc's --root).
type Runtime struct {
	Root string
	// Version is trustbox's version, measured into vTPMs.
	Version string
	// Audit receives one event per lifecycle operation (R-OPS-2); may be nil.
	Audit func(event string, id string, fields map[string]any)
}

// validID is ^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$, by hand: compiling that
// regexp (the bounded repeat unrolls 127 times) cost every trustbox process,
// container init included, 0.1 ms and 1,700 allocations at start-up.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '+' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// CheckID refuses IDs that could escape the state root or confuse tools.
func CheckID(id string) error {
	if !validID(id) || strings.Contains(id, "..") {
		return fmt.Errorf("container ID %q: use 1-128 letters, digits and _.+- (not starting with a symbol)", id)
	}
	return nil
}

func (r *Runtime) dir(id string) string { return filepath.Join(r.Root, id) }

// ErrNotExist is returned for unknown container IDs.
var ErrNotExist = errors.New("container does not exist")

// Load reads a container's state and refreshes its status from the kernel.
func (r *Runtime) Load(id string) (*State, error) { return r.load(id, false) }

// loadLocked is Load for a caller that holds the container's lock: a
// container saved as creating is then one whose create died (stopped).
func (r *Runtime) loadLocked(id string) (*State, error) { return r.load(id, true) }

func (r *Runtime) load(id string, locked bool) (*State, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(r.dir(id), "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("container %s: %w", id, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	st, err := decodeState(data)
	if err != nil {
		return nil, fmt.Errorf("container %s: corrupt state.json: %w", id, err)
	}
	if st.Pid <= 0 && st.Status == specs.StateCreating && !locked && r.locked(id) {
		// Saved before init was set up, and create still holds the lock.
		return st, nil
	}
	st.Status = r.status(st)
	return st, nil
}

// decodeState reads state.json as save writes it; the spec, most of it,
// through spec.Decode, whose reflection-free path spares every command that
// loads a state (start, state, kill, delete, ...) a cold decode of the
// spec's types, 0.5 ms (bench/README.md).
func decodeState(data []byte) (*State, error) {
	var st struct {
		State
		Spec json.RawMessage `json:"spec"` // shadows State.Spec
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	if len(st.Spec) > 0 && string(st.Spec) != "null" {
		s, err := spec.Decode(st.Spec)
		if err != nil {
			return nil, fmt.Errorf("spec: %w", err)
		}
		st.State.Spec = s
	}
	return &st.State, nil
}

// locked says whether someone holds the container's lock (create does
// from the state dir's making until the container is created).
func (r *Runtime) locked(id string) bool {
	fd, err := unix.Open(r.dir(id), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) == unix.EWOULDBLOCK
}

func (r *Runtime) save(st *State) error {
	specJSON := st.specJSON
	if specJSON == nil {
		b, err := json.Marshal(st.Spec)
		if err != nil {
			return err
		}
		specJSON = b
	}
	data, err := json.Marshal(struct {
		*State
		Spec json.RawMessage `json:"spec"` // shadows State.Spec
	}{st, specJSON})
	if err != nil {
		return err
	}
	tmp := filepath.Join(r.dir(st.ID), ".state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return os.Rename(tmp, filepath.Join(r.dir(st.ID), "state.json"))
}

// status derives the OCI status from the live process, the exec fifo and the freezer.
func (r *Runtime) status(st *State) specs.ContainerState {
	if st.Pid <= 0 || !alive(st.Pid, st.StartTime) {
		return specs.StateStopped
	}
	if _, err := os.Stat(filepath.Join(r.dir(st.ID), "exec.fifo")); err == nil {
		return specs.StateCreated
	}
	if m, err := r.cgroup(st); err == nil && m.Frozen() {
		return "paused"
	}
	return specs.StateRunning
}

// alive reports whether pid still runs and is the same process (same start time), not a zombie.
func alive(pid int, start uint64) bool {
	s, state, err := procStat(pid)
	return err == nil && s == start && state != "Z" && state != "X"
}

// procStat returns a process's start time (field 22) and state (field 3).
func procStat(pid int) (uint64, string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, "", fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, f[0], err
}

// List returns every container under the root.
func (r *Runtime) List() ([]*State, error) {
	ents, err := os.ReadDir(r.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, e := range ents {
		if !e.IsDir() || CheckID(e.Name()) != nil {
			continue
		}
		if st, err := r.Load(e.Name()); err == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// lock takes an exclusive flock on the container's directory for one operation.
func (r *Runtime) lock(id string) (func(), error) {
	fd, err := unix.Open(r.dir(id), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("container %s: %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("lock container %s: %w", id, err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock container %s: %w", id, err)
	}
	// The directory may have been removed (a failed create) and made again
	// (a new create of the same ID) while we waited: the lock is only the
	// container's if it is still the directory at the path.
	var held, now unix.Stat_t
	if unix.Fstat(fd, &held) != nil || unix.Stat(r.dir(id), &now) != nil || held.Dev != now.Dev || held.Ino != now.Ino {
		unix.Close(fd)
		return nil, fmt.Errorf("container %s: %w", id, ErrNotExist)
	}
	return func() { unix.Close(fd) }, nil
}

func (r *Runtime) audit(event, id string, fields map[string]any) {
	if r.Audit != nil {
		r.Audit(event, id, fields)
	}
}

// cgroupXattr names, on a container's state dir, its cgroupsPath and the
// identity (an inode) of the cgroup create made there, for as long as the
// state exists: other creates read it to refuse a cgroup that overlaps
// this one, and delete reads it to touch only this very cgroup (also when
// create was killed before saving state.json). Where the state root's
// filesystem keeps no trusted xattrs (ramfs, a user namespace), the same
// record goes to the file cgroupMarkFile in the state dir instead.
const (
	cgroupXattr    = "trusted.trustbox.cgroup"
	cgroupMarkFile = "cgroup"
)

// markCgroup records the container's cgroup path, with its identity once
// it exists (0 before). A record that cannot be written fails the create:
// without it, delete could not tell the cgroup is this container's.
func (r *Runtime) markCgroup(id string, cg *cgroups.Manager) error {
	rec := []byte(strconv.FormatUint(cg.Identity(), 10) + " " + cg.Path)
	err := unix.Setxattr(r.dir(id), cgroupXattr, rec, 0)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("record the cgroup on %s: %w", r.dir(id), err)
	}
	tmp := filepath.Join(r.dir(id), "."+cgroupMarkFile+".tmp")
	if err := os.WriteFile(tmp, rec, 0o600); err != nil {
		return fmt.Errorf("record the cgroup: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(r.dir(id), cgroupMarkFile)); err != nil {
		return fmt.Errorf("record the cgroup: %w", err)
	}
	return nil
}

// markedCgroup returns what markCgroup recorded on a state dir: the
// identity (0 if unknown) and the path ("" if nothing).
func (r *Runtime) markedCgroup(id string) (uint64, string) {
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(r.dir(id), cgroupXattr, buf)
	if err != nil {
		b, ferr := os.ReadFile(filepath.Join(r.dir(id), cgroupMarkFile))
		if ferr != nil {
			return 0, ""
		}
		buf, n = b, len(b)
	}
	ino, path, ok := strings.Cut(string(buf[:n]), " ")
	v, err := strconv.ParseUint(ino, 10, 64)
	if !ok || err != nil || !strings.HasPrefix(path, "/") {
		return 0, ""
	}
	return v, path
}

// lockCgroups takes the state root's lock for claiming a cgroup.
func (r *Runtime) lockCgroups() (func(), error) {
	fd, err := unix.Open(filepath.Join(r.Root, ".cgroups.lock"), unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the state root's cgroups: %w", err)
	}
	if err := linux.Retry(func() error { return unix.Flock(fd, unix.LOCK_EX) }); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock the state root's cgroups: %w", err)
	}
	return func() { unix.Close(fd) }, nil
}

// cgroupOverlap returns the container, other than id, whose cgroup is
// path, or contains it, or lies inside it ("" if none): killing one would
// kill the other (cgroup.kill takes the subtree), so containers under one
// root never share or nest cgroups.
func (r *Runtime) cgroupOverlap(id, path string) string {
	ents, _ := os.ReadDir(r.Root)
	for _, e := range ents {
		if !e.IsDir() || e.Name() == id || CheckID(e.Name()) != nil {
			continue
		}
		if _, other := r.markedCgroup(e.Name()); other != "" && nested(path, other) {
			return e.Name()
		}
	}
	return ""
}

// nested says whether cgroup paths a and b are the same or one holds the other.
func nested(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	return a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/") || a == "/" || b == "/"
}

// ownCgroup says whether delete may kill in and remove st's cgroup: no
// other container's overlaps it, and it is still the one create made
// (same identity) when the identity is known.
func (r *Runtime) ownCgroup(id, path string, cg *cgroups.Manager) bool {
	if r.cgroupOverlap(id, path) != "" {
		return false
	}
	ino, marked := r.markedCgroup(id)
	return marked == "" || ino == 0 || cg.Identity() == ino
}
