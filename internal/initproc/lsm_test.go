package initproc

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/spec"
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

// linux.mountLabel labels each filesystem init creates (context=), except
// proc and sysfs, and never overrides a context= the mount sets itself.
func TestMountLabelParams(t *testing.T) {
	const label = "system_u:object_r:container_file_t:s0:c1,c2"
	for _, tc := range []struct {
		typ, data, want string
	}{
		{"tmpfs", "mode=755", label},
		{"mqueue", "", label},
		{"devpts", "newinstance", label},
		{"proc", "", ""},
		{"sysfs", "", ""},
		{"tmpfs", "context=system_u:object_r:tmp_t:s0", "system_u:object_r:tmp_t:s0"},
	} {
		var data []string
		if tc.data != "" {
			data = []string{tc.data}
		}
		kv, _ := fsParams(specs.Mount{Type: tc.typ}, spec.MountOptions{Data: data}, label)
		if kv["context"] != tc.want {
			t.Errorf("%s %q: context %q, want %q", tc.typ, tc.data, kv["context"], tc.want)
		}
		if kv, _ := fsParams(specs.Mount{Type: tc.typ}, spec.MountOptions{Data: data}, ""); kv["context"] != "" && tc.data == "" {
			t.Errorf("%s without a mountLabel: context %q", tc.typ, kv["context"])
		}
	}
}
