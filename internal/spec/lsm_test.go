package spec

import (
	"errors"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A label the host cannot apply is refused, never silently dropped (R-LSM-b).
func TestCheckLSMLabels(t *testing.T) {
	tests := []struct {
		name  string
		p     specs.Process
		host  HostLSM
		field string
	}{
		{"none", specs.Process{}, HostLSM{}, ""},
		{"apparmor missing", specs.Process{ApparmorProfile: "docker-default"}, HostLSM{SELinux: true}, "process.apparmorProfile"},
		{"apparmor present", specs.Process{ApparmorProfile: "docker-default"}, HostLSM{AppArmor: true}, ""},
		{"selinux missing", specs.Process{SelinuxLabel: "system_u:system_r:container_t:s0:c1,c2"}, HostLSM{AppArmor: true}, "process.selinuxLabel"},
		{"selinux present", specs.Process{SelinuxLabel: "system_u:system_r:container_t:s0"}, HostLSM{SELinux: true}, ""},
	}
	for _, tc := range tests {
		err := CheckLSMLabels(&tc.p, tc.host)
		var fe *FieldError
		if (tc.field == "") != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != tc.field)) {
			t.Errorf("%s: got %v, want field %q", tc.name, err, tc.field)
		}
	}
}

// linux.mountLabel needs SELinux; without it the refusal names the field.
func TestCheckMountLabel(t *testing.T) {
	l := &specs.Linux{MountLabel: "system_u:object_r:container_file_t:s0:c1,c2"}
	var fe *FieldError
	if err := CheckMountLabel(l, HostLSM{AppArmor: true}); !errors.As(err, &fe) || fe.Field != "linux.mountLabel" {
		t.Errorf("without SELinux: %v", err)
	}
	if err := CheckMountLabel(l, HostLSM{SELinux: true}); err != nil {
		t.Errorf("with SELinux: %v", err)
	}
	if err := CheckMountLabel(&specs.Linux{}, HostLSM{}); err != nil {
		t.Errorf("no label: %v", err)
	}
}
