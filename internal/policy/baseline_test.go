package policy

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/spec"
)

// An engine's permissive config is hardened in place, and each change is reported.
func TestApplyHardens(t *testing.T) {
	s := spec.Default(false, 0, 0)
	s.Process.NoNewPrivileges = false
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	s.Mounts[5].Options = []string{"rw"} // sysfs
	ds := Default().Apply(s)
	if len(Refusals(ds)) != 0 {
		t.Fatalf("refused: %v", ds)
	}
	if !s.Process.NoNewPrivileges || !slices.Contains(s.Linux.MaskedPaths, "/proc/keys") ||
		!slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") || !slices.Contains(s.Mounts[5].Options, "ro") ||
		slices.Contains(s.Mounts[5].Options, "rw") {
		t.Fatalf("not hardened: %+v", s)
	}
	fields := map[string]bool{}
	for _, d := range ds {
		fields[d.Field] = d.Action == Enforced
	}
	for _, f := range []string{"process.noNewPrivileges", "linux.maskedPaths", "linux.readonlyPaths", "mounts[5].options"} {
		if !fields[f] {
			t.Errorf("no enforcement reported for %s: %v", f, ds)
		}
	}
}

func TestApplyRefuses(t *testing.T) {
	tests := []struct {
		name, field, req string
		mut              func(*specs.Spec)
	}{
		{"module cap", "process.capabilities.bounding", "R-TRUST-5", func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_SYS_MODULE")
		}},
		{"ambient ptrace", "process.capabilities.ambient", "R-LSM-e", func(s *specs.Spec) {
			s.Process.Capabilities.Ambient = []string{"CAP_SYS_PTRACE"}
		}},
		{"rw /proc bind", "mounts[8].source", "R-LSM-g", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Source: "/proc/", Destination: "/hostproc", Type: "bind"})
		}},
		{"kmsg", "linux.devices[0]", "R-TRUST-5", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}}
		}},
		{"mem by number", "linux.devices[0]", "R-TRUST-5", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/char/1:1", Type: "c", Major: 1, Minor: 1}}
		}},
		{"kmsg by rule", "linux.resources.devices[1]", "R-TRUST-5", func(s *specs.Spec) {
			one, eleven := int64(1), int64(11)
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &one, Minor: &eleven, Access: "rw"})
		}},
		{"every char device read and write", "linux.resources.devices[1]", "R-TRUST-5", func(s *specs.Spec) {
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Access: "rwm"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := spec.Default(false, 0, 0)
			tc.mut(s)
			r := Refusals(Default().Apply(s))
			if len(r) != 1 || r[0].Field != tc.field || r[0].Requirement != tc.req {
				t.Fatalf("got %v, want one refusal of %s (%s)", r, tc.field, tc.req)
			}
		})
	}
}

// Engines' own device rules pass: mknod of any node ("c *:* m", what
// containerd and Podman allow), and the harmless nodes read and written.
func TestEngineDeviceRulesPass(t *testing.T) {
	s := spec.Default(false, 0, 0)
	three := int64(3)
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices,
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Access: "m"},
		specs.LinuxDeviceCgroup{Allow: true, Type: "b", Access: "m"},
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: new(int64(1)), Minor: &three, Access: "rwm"})
	if r := Refusals(Default().Apply(s)); len(r) != 0 {
		t.Fatalf("refused: %v", r)
	}
}

// A read-only bind of a sensitive path is allowed; the secure default passes untouched.
func TestApplyAllows(t *testing.T) {
	s := spec.Default(false, 0, 0)
	s.Mounts = append(s.Mounts, specs.Mount{Source: "/etc", Destination: "/host-etc", Type: "bind", Options: []string{"rbind", "ro"}})
	ds := Default().Apply(s)
	if len(ds) != 0 {
		t.Fatalf("secure default got decisions: %v", ds)
	}
}
