package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeCgroup makes dir with the given interface files (plain files: these
// tests check what trustbox writes, e2e/TestCgroupV2VM what the kernel does).
func fakeCgroup(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Every ancestor, from the root down, enables what it has and has not
// enabled yet; the leaf (the container's cgroup) is left alone.
func TestEnableControllersTopDown(t *testing.T) {
	root := t.TempDir()
	fakeCgroup(t, root, map[string]string{"cgroup.controllers": "cpu io memory pids\n", "cgroup.subtree_control": "cpu io memory pids\n"})
	mid := filepath.Join(root, "trustbox")
	fakeCgroup(t, mid, map[string]string{"cgroup.controllers": "cpu io memory pids\n", "cgroup.subtree_control": "cpu\n"})
	leaf := filepath.Join(mid, "c1")
	fakeCgroup(t, leaf, map[string]string{"cgroup.controllers": "cpu\n", "cgroup.subtree_control": ""})
	if err := enableControllers(root, leaf); err != nil {
		t.Fatal(err)
	}
	// The root had them all: nothing written (a plain file keeps its text).
	if got := readFile(t, filepath.Join(root, "cgroup.subtree_control")); got != "cpu io memory pids" {
		t.Errorf("root subtree_control rewritten: %q", got)
	}
	if got := readFile(t, filepath.Join(mid, "cgroup.subtree_control")); got != "+io +memory +pids" {
		t.Errorf("/trustbox subtree_control: %q, want the missing controllers", got)
	}
	if got := readFile(t, filepath.Join(leaf, "cgroup.subtree_control")); got != "" {
		t.Errorf("the leaf enabled controllers: %q", got)
	}
	if err := enableControllers(root, "/elsewhere/c1"); err == nil {
		t.Error("a cgroup outside the hierarchy was accepted")
	}
}

// OCI resources become v2 files with the values runc writes.
func TestSetV2Files(t *testing.T) {
	dir := t.TempDir()
	files := []string{"memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max", "cpuset.cpus", "pids.max", "io.weight", "io.max", "hugetlb.2MB.max"}
	fakeCgroup(t, dir, nil)
	for _, f := range files {
		fakeCgroup(t, dir, map[string]string{f: ""})
	}
	mem, swap, res, quota, pids := int64(64<<20), int64(-1), int64(32<<20), int64(50000), int64(12)
	period, shares, weight := uint64(100000), uint64(512), uint16(500)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &mem, Reservation: &res, Swap: &swap},
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0"},
		Pids:   &specs.LinuxPids{Limit: &pids},
		BlockIO: &specs.LinuxBlockIO{Weight: &weight,
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1048576}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
	}
	if err := setV2(dir, r, true); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory.max": "67108864", "memory.low": "33554432", "memory.swap.max": "max",
		"cpu.weight": "20", "cpu.max": "50000 100000", "cpuset.cpus": "0", "pids.max": "12",
		"io.weight": "4950", "io.max": "8:0 rbps=1048576", "hugetlb.2MB.max": "4194304",
	}
	for f, v := range want {
		if got := readFile(t, filepath.Join(dir, f)); got != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	// Hybrid: the v2 tree has no controllers, nothing is written there.
	other := t.TempDir()
	if err := setV2(other, r, false); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(other); len(ents) != 0 {
		t.Errorf("hybrid setV2 wrote %d files", len(ents))
	}
}

// A limit whose controller does not reach the cgroup fails, naming the controller.
func TestSetV2NamesMissingController(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing") // no such directory: no file can be created
	pids := int64(5)
	err := setV2(dir, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &pids}}, true)
	if err == nil || !strings.Contains(err.Error(), "pids controller is not enabled") {
		t.Fatalf("err = %v, want one naming the pids controller", err)
	}
}

func TestCPUWeight(t *testing.T) {
	for shares, w := range map[uint64]uint64{2: 1, 1024: 39, 262144: 10000, 0: 1, 1 << 20: 10000} {
		if got := cpuWeight(shares); got != w {
			t.Errorf("cpuWeight(%d) = %d, want %d", shares, got, w)
		}
	}
}

// cpu.max holds quota and period: changing one keeps the other (update
// --cpu-quota alone, or --cpu-period alone).
func TestCPUMaxKeepsTheOtherHalf(t *testing.T) {
	for _, tc := range []struct {
		name, cur string
		cpu       specs.LinuxCPU
		want      string
	}{
		{"quota alone", "max 250000", specs.LinuxCPU{Quota: func() *int64 { v := int64(50000); return &v }()}, "50000 250000"},
		{"period alone", "30000 100000", specs.LinuxCPU{Period: func() *uint64 { v := uint64(200000); return &v }()}, "30000 200000"},
		{"quota -1 is max", "30000 100000", specs.LinuxCPU{Quota: func() *int64 { v := int64(-1); return &v }()}, "max 100000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fakeCgroup(t, dir, map[string]string{"cpu.max": tc.cur})
			cpu := tc.cpu
			if err := setV2(dir, &specs.LinuxResources{CPU: &cpu}, true); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, filepath.Join(dir, "cpu.max")); got != tc.want {
				t.Fatalf("cpu.max = %q, want %q", got, tc.want)
			}
		})
	}
}

// linux.resources.unified is written on v2, after the typed fields, and
// refused before anything starts where the v2 tree has no controllers.
func TestUnifiedResources(t *testing.T) {
	dir := t.TempDir()
	fakeCgroup(t, dir, map[string]string{"memory.high": "", "memory.max": ""})
	mem := int64(64 << 20)
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem}, Unified: map[string]string{"memory.high": "62914560", "memory.max": "max"}}
	if err := setV2(dir, r, true); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "memory.high")); got != "62914560" {
		t.Errorf("memory.high = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "memory.max")); got != "max" {
		t.Errorf("memory.max = %q: unified must come after the typed limit", got)
	}
	for _, mode := range []Mode{Legacy, Hybrid} {
		if err := (&Manager{Mode: mode}).Check(r); err == nil || !strings.Contains(err.Error(), "linux.resources.unified") {
			t.Errorf("%s host: Check = %v, want a refusal naming linux.resources.unified", mode, err)
		}
	}
	if err := (&Manager{Mode: Unified}).Check(r); err != nil {
		t.Errorf("unified host: %v", err)
	}
}
