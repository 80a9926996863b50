package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/cgroups"
)

// Resources land in the host's cgroup v1 controllers (this machine is hybrid)
// and the container reads its own limits, read-only, through its cgroupfs.
func TestCgroupV1Limits(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err != nil {
		t.Skip("no cgroup v1 memory controller on this host")
	}
	e := newEnv(t)
	mem, pids, shares := int64(64<<20), int64(12), uint64(512)
	b := e.bundle([]string{"sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares; echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo denied"}, func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: &shares}
	})
	r := e.runIn(b, nil, "run", "e2e-cg")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "67108864 12 512 denied" {
		t.Fatalf("limits seen inside: %q", r.stdout)
	}
}

// pids.max is enforced: forks beyond the limit fail.
func TestPidsLimitEnforced(t *testing.T) {
	e := newEnv(t)
	pids := int64(5)
	b := e.bundle([]string{"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done"}, func(s *specs.Spec) {
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	})
	r := e.runIn(b, nil, "run", "e2e-pids")
	if !strings.Contains(r.stderr, "can't fork") {
		t.Fatalf("pids limit not enforced: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}

// update and events --stats act on a running container.
func TestUpdateAndStats(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sleep", "1000"})
	e.must("run", "-d", "--bundle", b, "e2e-upd")
	defer e.run("delete", "-f", "e2e-upd")
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		// Hybrid: the v1 devices controller holds the rules; a v2 program
		// would only repeat them (internal/cgroups tests the v2 path).
		want := 1
		if _, err := os.Stat("/sys/fs/cgroup/devices/trustbox/e2e-upd/devices.list"); err == nil {
			want = 0
		}
		if n, err := cgroups.DeviceFilterCount("/sys/fs/cgroup/unified/trustbox/e2e-upd"); err != nil || n != want {
			t.Fatalf("cgroup v2 device filter: %d attached (%v), want %d", n, err, want)
		}
	}
	e.must("update", "--memory", "33554432", "--pids-limit", "7", "e2e-upd")
	var ev struct {
		Type string `json:"type"`
		Data struct {
			MemoryLimit uint64 `json:"memory_limit"`
			PidsLimit   uint64 `json:"pids_limit"`
			PidsCurrent uint64 `json:"pids_current"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(e.must("events", "--stats", "e2e-upd")), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "stats" || ev.Data.MemoryLimit != 33554432 || ev.Data.PidsLimit != 7 || ev.Data.PidsCurrent != 1 {
		t.Fatalf("stats after update: %+v", ev)
	}
}

// All hook kinds run, at their point, with the OCI state on stdin.
func TestHooks(t *testing.T) {
	e := newEnv(t)
	out := t.TempDir()
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	hook := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + filepath.Join(out, name)}}
	}
	b := e.bundle([]string{"cat", "/tmp/startContainer"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			Prestart: []specs.Hook{hook("prestart")}, CreateRuntime: []specs.Hook{hook("createRuntime")},
			// createContainer runs in the container's namespaces before pivot_root, a host path;
			// startContainer runs inside the container, a path in its rootfs.
			CreateContainer: []specs.Hook{hook("createContainer")},
			StartContainer:  []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > /tmp/startContainer"}}},
			Poststart:       []specs.Hook{hook("poststart")}, Poststop: []specs.Hook{hook("poststop")},
		}
	})
	r := e.runIn(b, nil, "run", "e2e-hooks")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var inside specs.State
	if err := json.Unmarshal([]byte(r.stdout), &inside); err != nil || inside.ID != "e2e-hooks" {
		t.Errorf("startContainer hook got state %q (%v)", r.stdout, err)
	}
	want := map[string]string{"prestart": "created", "createRuntime": "created", "createContainer": "creating", "poststart": "running", "poststop": "stopped"}
	for name, status := range want {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("hook %s did not run: %v", name, err)
			continue
		}
		var st specs.State
		if err := json.Unmarshal(data, &st); err != nil || st.ID != "e2e-hooks" || string(st.Status) != status || st.Bundle != b {
			t.Errorf("hook %s got state %s (err %v), want status %s", name, data, err, status)
		}
	}
}

// linux.personality LINUX32 makes the workload see a 32-bit machine.
func TestPersonality(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"uname", "-m"}, func(s *specs.Spec) {
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	})
	r := e.runIn(b, nil, "run", "e2e-pers")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "i686" {
		t.Fatalf("exit %d: %q %s", r.code, r.stdout, r.stderr)
	}
}
