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

// A read-only bind of a sensitive path is allowed; the secure default passes untouched.
func TestApplyAllows(t *testing.T) {
	s := spec.Default(false, 0, 0)
	s.Mounts = append(s.Mounts, specs.Mount{Source: "/etc", Destination: "/host-etc", Type: "bind", Options: []string{"rbind", "ro"}})
	ds := Default().Apply(s)
	if len(ds) != 0 {
		t.Fatalf("secure default got decisions: %v", ds)
	}
}
