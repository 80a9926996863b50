package cgroups

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/testutil"
)

func dev(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	return specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Major: &major, Minor: &minor, Access: access}
}

// The cgroup v2 device filter enforces v1's rule semantics in the kernel:
// a real process in a cgroup with the program attached tries /dev/null
// (1:3) and /dev/zero (1:5).
func TestDeviceFilterInKernel(t *testing.T) {
	testutil.RequiresRoot(t)
	_, hs, err := Detect()
	if err != nil {
		t.Fatal(err)
	}
	var v2 string
	for _, h := range hs {
		if h.V2 {
			v2 = h.Mountpoint
		}
	}
	if v2 == "" {
		t.Skip("no cgroup2 hierarchy mounted on this host")
	}
	all := int64(-1)
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		want  string
	}{
		{"only null", []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, dev(true, "c", 1, 3, "rwm")}, "r-null w-null"},
		{"last rule wins: deny zero after allow all", []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}, dev(false, "c", 1, 5, "rwm")}, "r-null w-null"},
		{"last rule wins: allow all after deny null", []specs.LinuxDeviceCgroup{dev(false, "c", 1, 3, "rwm"), {Allow: true, Type: "a", Access: "rwm"}}, "r-null w-null r-zero"},
		{"read-only null", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 3, "r")}, "r-null"},
		{"wildcard minor", []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: func() *int64 { v := int64(1); return &v }(), Minor: &all, Access: "rw"}}, "r-null w-null r-zero"},
		{"block rules do not match char devices", []specs.LinuxDeviceCgroup{dev(true, "b", 1, 3, "rwm")}, ""},
		{"nothing", nil, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(v2, fmt.Sprintf("trustbox-devfilter-test-%d-%d", os.Getpid(), i))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			defer unix.Rmdir(dir)
			if err := AttachDeviceFilter(dir, tc.rules); err != nil {
				t.Fatal(err)
			}
			// Attaching again replaces the program (update), never stacks a second one.
			if err := AttachDeviceFilter(dir, tc.rules); err != nil {
				t.Fatal(err)
			}
			if n, err := DeviceFilterCount(dir); err != nil || n != 1 {
				t.Fatalf("%d device programs attached (%v), want 1", n, err)
			}
			cg, err := os.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer cg.Close()
			cmd := exec.Command("/bin/sh", "-c", "cat /dev/null 2>&- && echo r-null; (: > /dev/null) 2>&- && echo w-null; head -c1 /dev/zero 2>&- | wc -c | grep -q 1 && echo r-zero")
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
			out, _ := cmd.Output()
			if got := strings.Join(strings.Fields(string(out)), " "); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
