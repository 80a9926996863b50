package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/spec"
)

// Bad input gets one clear error naming the field, a non-zero exit, and leaves nothing behind.
func TestMalformedConfigs(t *testing.T) {
	e := newEnv(t)
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name string
		raw  string // config.json text, or "" to use mutate
		mut  func(*specs.Spec)
		want string
	}{
		{"not json", `{"ociVersion": "1.0.2", "process": `, nil, "malformed JSON"},
		{"wrong type", `{"ociVersion": "1.0.2", "process": {"args": "sh"}}`, nil, "process.args"},
		{"empty", ` `, nil, "empty config"},
		{"old version", "", func(s *specs.Spec) { s.Version = "0.9.0" }, "ociVersion"},
		{"duplicate namespace", "", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "listed twice"},
		{"unknown namespace", "", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, "unknown namespace type"},
		{"overlapping mappings", "", func(s *specs.Spec) {
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 100, HostID: 300000, Size: 10})
		}, "linux.uidMappings: ranges overlap"},
		{"zero-size mapping", "", func(s *specs.Spec) { s.Linux.GIDMappings[0].Size = 0 }, "linux.gidMappings[0].size"},
		{"relative mount target", "", func(s *specs.Spec) { s.Mounts[0].Destination = "proc" }, "mounts[0].destination"},
		{"unknown fs type", "", func(s *specs.Spec) { s.Mounts[0].Type = "ext4" }, "mounts[0].type"},
		{"unknown rlimit", "", func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_BOGUS" }, "process.rlimits[0].type"},
		{"soft above hard", "", func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 5000 }, "process.rlimits[0]"},
		{"unknown capability", "", func(s *specs.Spec) { s.Process.Capabilities.Bounding[0] = "CAP_WHATEVER" }, "process.capabilities.bounding[0]"},
		{"absurd memory", "", func(s *specs.Spec) { s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(5)} }, "linux.resources.memory.limit"},
		{"negative pids", "", func(s *specs.Spec) { s.Linux.Resources.Pids.Limit = i64(-5) }, "linux.resources.pids.limit"},
		{"relative cwd", "", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, "process.cwd"},
		{"no args", "", func(s *specs.Spec) { s.Process.Args = nil }, "process.args"},
		{"missing rootfs", "", func(s *specs.Spec) { s.Root.Path = "nope" }, "root.path"},
		{"relative hook", "", func(s *specs.Spec) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "hook"}}} }, "hooks.prestart[0].path"},
		{"no mount namespace", "", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:4] }, "mount namespace is required"},
		{"missing binary", "", func(s *specs.Spec) { s.Process.Args = []string{"/bin/nonexistent"} }, "process.args[0]"},
		{"unmapped user", "", func(s *specs.Spec) { s.Process.User.UID = 70000 }, "process.user.uid 70000"},
		{"time offset of the realtime clock", "", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 5}}
		}, "linux.timeOffsets"},
	}
	if lsm := spec.DetectLSM(); !lsm.AppArmor {
		tests = append(tests, struct {
			name string
			raw  string
			mut  func(*specs.Spec)
			want string
		}{"apparmor on a host without it", "", func(s *specs.Spec) { s.Process.ApparmorProfile = "docker-default" }, "process.apparmorProfile"})
	}
	if lsm := spec.DetectLSM(); !lsm.SELinux {
		tests = append(tests, struct {
			name string
			raw  string
			mut  func(*specs.Spec)
			want string
		}{"mount label on a host without SELinux", "", func(s *specs.Spec) {
			s.Linux.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
		}, "linux.mountLabel"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.bundle([]string{"true"}, func(s *specs.Spec) {
				if tc.mut != nil {
					tc.mut(s)
				}
			})
			if tc.raw != "" {
				if err := os.WriteFile(filepath.Join(b, "config.json"), []byte(tc.raw), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := e.runIn(b, nil, "run", "e2e-bad")
			if r.code == 0 {
				t.Fatal("malformed config ran")
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("error does not say %q:\n%s", tc.want, r.stderr)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines != 1 {
				t.Errorf("want one error line, got %d:\n%s", lines, r.stderr)
			}
		})
	}
}

func TestBadIDs(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"true"})
	for _, id := range []string{"../escape", "a/b", "", ".hidden", strings.Repeat("x", 200)} {
		if r := e.runIn(b, nil, "run", id); r.code == 0 || !strings.Contains(r.stderr, "container ID") {
			t.Errorf("id %q: exit %d, %s", id, r.code, r.stderr)
		}
	}
}

// --systemd-cgroup is accepted as runc's flag but refused clearly, never ignored.
func TestSystemdCgroupRefused(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"true"})
	r := e.runIn(b, nil, "--systemd-cgroup", "run", "e2e-systemd")
	if r.code == 0 || !strings.Contains(r.stderr, "--systemd-cgroup") || !strings.Contains(r.stderr, "cgroupfs") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// What trustbox does not do fails with one clear message, never silently.
func TestUnsupportedCommands(t *testing.T) {
	e := newEnv(t)
	for _, cmd := range []string{"checkpoint", "restore"} {
		if r := e.run(cmd, "x"); r.code == 0 || !strings.Contains(r.stderr, "not supported") {
			t.Errorf("%s: exit %d %s", cmd, r.code, r.stderr)
		}
	}
	if r := e.run("frobnicate"); r.code == 0 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("unknown command: exit %d %s", r.code, r.stderr)
	}
}
