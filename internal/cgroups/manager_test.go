package cgroups

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/testutil"
)

// v2Manager is a Manager in unified mode over this host's real cgroup2
// mount, whatever the host's layout (on a hybrid host, the unified tree).
func v2Manager(t *testing.T) *Manager {
	t.Helper()
	testutil.RequiresRoot(t)
	_, hs, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.V2 {
			path := fmt.Sprintf("/trustbox-cgtest-%d/c", os.Getpid())
			m := &Manager{Mode: Unified, Path: path, Dirs: map[string]string{"unified": filepath.Join(h.Mountpoint, path)}, hiers: []Hierarchy{h}}
			t.Cleanup(func() { m.Destroy(); unix.Rmdir(filepath.Dir(m.Dirs["unified"])) })
			return m
		}
	}
	t.Skip("no cgroup2 hierarchy is mounted on this host")
	return nil
}

// The v2 life of a container's cgroup, in the kernel: device rules as an eBPF
// program, a process started straight into the cgroup (CLONE_INTO_CGROUP, no
// attach), membership checked, cgroup.kill, removal.
func TestUnifiedLifecycle(t *testing.T) {
	m := v2Manager(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{Devices: DefaultDevices()}); err != nil {
		t.Fatal(err)
	}
	if n, err := DeviceFilterCount(m.Dirs["unified"]); err != nil || n != 1 {
		t.Fatalf("device programs attached: %d (%v), want 1", n, err)
	}
	j, err := m.OpenJoin()
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.Dir == nil || len(j.Tasks) != 0 {
		t.Fatalf("join files on a v2-only manager: dir %v, %d tasks files", j.Dir, len(j.Tasks))
	}
	// /dev/null (1:3) is in the default rules, /dev/kmsg (1:11) is not.
	cmd := exec.Command("/bin/sh", "-c", "cat /dev/null && echo null-ok; head -c0 /dev/kmsg 2>&- && echo kmsg-open; echo up; exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(j.Dir.Fd())}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 256)
	for !strings.Contains(got.String(), "up") {
		n, err := out.Read(buf)
		if err != nil {
			t.Fatalf("child output %q: %v", got.String(), err)
		}
		got.Write(buf[:n])
	}
	if g := strings.Fields(got.String()); strings.Join(g, " ") != "null-ok up" {
		t.Fatalf("device rules in the kernel: %q, want null-ok and no kmsg-open", got.String())
	}
	if err := m.Contains(cmd.Process.Pid); err != nil {
		t.Fatalf("started into the cgroup: %v", err)
	}
	if err := m.Contains(os.Getpid()); err == nil {
		t.Fatal("Contains accepted a process outside the cgroup")
	}
	// Pause and resume wait for cgroup.events to say so (poll, no sleeps).
	for _, step := range []struct {
		do   func() error
		want string
	}{{m.Freeze, "frozen 1"}, {m.Thaw, "frozen 0"}} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		ev, err := os.ReadFile(filepath.Join(m.Dirs["unified"], "cgroup.events"))
		if err != nil || !strings.Contains(string(ev), step.want) {
			t.Fatalf("cgroup.events %q (%v), want %q", ev, err, step.want)
		}
	}
	if err := m.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("after cgroup.kill: %v", err)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Dirs["unified"]); !os.IsNotExist(err) {
		t.Fatalf("cgroup left behind: %v", err)
	}
}

// On a v1 (or hybrid) host, OpenJoin hands out every v1 hierarchy's tasks
// file, opened for writing: the nsenter constructor writes "0" to each.
func TestOpenJoinV1(t *testing.T) {
	testutil.RequiresRoot(t)
	mode, _, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	if mode == Unified {
		t.Skip("no cgroup v1 hierarchy on this host (pure cgroup v2)")
	}
	m, err := New(fmt.Sprintf("/trustbox-cgtest-%d-v1", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	j, err := m.OpenJoin()
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	v1 := 0
	for _, h := range m.hiers {
		if !h.V2 {
			v1++
		}
	}
	if len(j.Tasks) != v1 || (mode == Hybrid) != (j.Dir != nil) {
		t.Fatalf("%d tasks files for %d v1 hierarchies, v2 dir %v (mode %s)", len(j.Tasks), v1, j.Dir, mode)
	}
	for _, f := range j.Tasks {
		if filepath.Base(f.Name()) != "tasks" {
			t.Fatalf("join file %s", f.Name())
		}
		if fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0); err != nil || fl&unix.O_ACCMODE != unix.O_WRONLY {
			t.Fatalf("%s: flags %#x (%v), want write-only", f.Name(), fl, err)
		}
	}
}

// On a v1 host with neither unified nor pids, the hierarchy whose cgroup
// identifies the container is the same in every process: create records
// its inode and delete compares it, so a map's random order would make
// delete refuse, or kill in the wrong place, at random.
func TestTrackingDirIsStable(t *testing.T) {
	dirs := map[string]string{}
	for _, k := range []string{"memory", "cpu,cpuacct", "blkio", "devices", "freezer", "net_cls", "perf_event"} {
		dirs[k] = "/sys/fs/cgroup/" + k + "/c"
	}
	for i := 0; i < 50; i++ {
		m := &Manager{Dirs: maps.Clone(dirs)}
		if got := m.trackingDir(); got != "/sys/fs/cgroup/blkio/c" {
			t.Fatalf("try %d: tracking %s", i, got)
		}
	}
	if got := (&Manager{Dirs: map[string]string{"memory": "/m", "unified": "/u"}}).trackingDir(); got != "/u" {
		t.Fatalf("with unified: tracking %s", got)
	}
}
