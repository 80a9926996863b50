package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// `trustbox spec` writes a secure config that runs as is (with the seccomp
// profile spelled out) and that `trustbox check bundle` finds no fault with.
func TestSpecCommand(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"true"})
	if err := os.Remove(filepath.Join(b, "config.json")); err != nil {
		t.Fatal(err)
	}
	e.must("spec", "--bundle", b)
	if r := e.run("spec", "--bundle", b); r.code == 0 {
		t.Fatal("spec overwrote an existing config.json")
	}
	data, err := os.ReadFile(filepath.Join(b, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction == specs.ActAllow || !s.Process.NoNewPrivileges || !s.Root.Readonly {
		t.Fatalf("spec is not secure by default: %+v", s.Linux.Seccomp)
	}
	if r := e.run("check", "bundle", b); r.code != 0 {
		t.Fatalf("check bundle on trustbox spec's output: exit %d\n%s", r.code, r.stdout)
	}
	s.Process.Terminal = false
	s.Process.Args = []string{"sh", "-c", "grep Seccomp: /proc/self/status"}
	writeSpec(t, b, &s)
	r := e.runIn(b, nil, "run", "e2e-spec")
	if r.code != 0 || !strings.Contains(r.stdout, "2") {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}

// `trustbox features` is the OCI features document engines read before
// asking for something: it says what trustbox does, and what it refuses.
func TestFeatures(t *testing.T) {
	e := newEnv(t)
	var f features.Features
	if err := json.Unmarshal([]byte(e.must("features")), &f); err != nil {
		t.Fatal(err)
	}
	l := f.Linux
	switch {
	case f.OCIVersionMax != specs.Version || l == nil:
		t.Fatalf("ociVersionMax %q, linux %v", f.OCIVersionMax, l)
	case len(l.Namespaces) != 8 || len(f.Hooks) != 6:
		t.Errorf("namespaces %v, hooks %v", l.Namespaces, f.Hooks)
	case l.Seccomp == nil || !*l.Seccomp.Enabled || l.MountExtensions == nil || !*l.MountExtensions.IDMap.Enabled:
		t.Errorf("seccomp %+v, idmap %+v", l.Seccomp, l.MountExtensions)
	case l.MemoryPolicy == nil || !slices.Contains(l.MemoryPolicy.Modes, "MPOL_BIND") || !slices.Contains(l.MemoryPolicy.Flags, "MPOL_F_STATIC_NODES"):
		t.Errorf("memoryPolicy %+v", l.MemoryPolicy)
	case l.IntelRdt == nil || *l.IntelRdt.Enabled || l.NetDevices == nil || *l.NetDevices.Enabled:
		t.Errorf("intelRdt %+v and netDevices %+v must say disabled: both are refused", l.IntelRdt, l.NetDevices)
	case l.Cgroup == nil || *l.Cgroup.Systemd:
		t.Errorf("cgroup %+v: the systemd driver is refused", l.Cgroup)
	}
}
