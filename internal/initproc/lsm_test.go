package initproc

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The label is written where each LSM reads it at execve.
func TestLSMExecLabel(t *testing.T) {
	for _, tc := range []struct {
		p           specs.Process
		file, value string
	}{
		{specs.Process{}, "", ""},
		{specs.Process{ApparmorProfile: "trustbox-default"}, "thread-self/attr/apparmor/exec", "exec trustbox-default"},
		{specs.Process{SelinuxLabel: "system_u:system_r:container_t:s0:c1,c2"}, "thread-self/attr/exec", "system_u:system_r:container_t:s0:c1,c2"},
	} {
		if f, v := lsmExecLabel(&tc.p); f != tc.file || v != tc.value {
			t.Errorf("%+v: got %q %q", tc.p, f, v)
		}
	}
}
