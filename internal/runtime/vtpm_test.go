package runtime

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/spec"
	"github.com/trustbox/trustbox/internal/vtpm"
)

// R-TRUST-3/R-TRUST-4: what each vTPM architecture gives the container.
func TestWireVtpm(t *testing.T) {
	maj, min := int64(10), int64(224)
	kernel := vtpm.Attachment{Arch: vtpm.ArchKernel, HostDir: "/run/v/attach/c", Env: []string{"TPM2TOOLS_TCTI=device:/dev/tpmrm0"},
		Device:     &specs.LinuxDevice{Path: vtpm.ContainerDevice, Type: "c", Major: 253, Minor: 65537},
		DeviceRule: &specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &maj, Minor: &min, Access: "rw"}, HostDevice: "/dev/tpmrm1"}
	daemon := vtpm.Attachment{HostDir: "/run/v/attach/c", Env: []string{"TPM2TOOLS_TCTI=cmd:tbtpm-adapter"}}
	for _, tc := range []struct {
		name                  string
		att                   vtpm.Attachment
		userns                bool
		rule, devBind, devEnt bool
	}{
		{"daemon", daemon, true, false, false, false},
		{"kernel, user namespace: bind the host node", kernel, true, true, true, false},
		{"kernel, host root: create the node", kernel, false, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec.Default(false, 0, 0)
			att := tc.att
			rule := wireVtpm(s, &att, tc.userns)
			var logDir, devBind bool
			for _, m := range s.Mounts {
				logDir = logDir || (m.Destination == vtpm.MountDir && m.Source == att.HostDir && m.Options[1] == "ro")
				devBind = devBind || (m.Destination == vtpm.ContainerDevice && m.Source == att.HostDevice)
			}
			devEnt := len(s.Linux.Devices) == 1 && s.Linux.Devices[0].Path == vtpm.ContainerDevice
			if !logDir || (rule != nil) != tc.rule || devBind != tc.devBind || devEnt != tc.devEnt {
				t.Fatalf("log dir %v, rule %v, device bind %v, device entry %v", logDir, rule, devBind, devEnt)
			}
			if s.Process.Env[len(s.Process.Env)-1] != att.Env[0] {
				t.Fatalf("TSS environment not added: %v", s.Process.Env)
			}
		})
	}
}
