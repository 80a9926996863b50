package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/spec"
)

// probeScript reports, from inside the container, what protects it.
const probeScript = `
echo "uidmap=$(tr -s ' ' < /proc/self/uid_map | sed 's/^ //')"
echo "capeff=$(grep CapEff /proc/self/status | cut -f2)"
echo "nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)"
echo "keys=$(wc -c < /proc/keys)"
(echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo procsys=writable || echo procsys=ro
touch /sys/fs/cgroup/pids/x 2>/dev/null && echo cgroupfs=writable || echo cgroupfs=ro
touch /sys/x 2>/dev/null && echo sysfs=writable || echo sysfs=ro
touch /rootfile 2>/dev/null && echo rootfs=writable || echo rootfs=ro
mount -t tmpfs t /mnt 2>/dev/null && echo mount=allowed || echo mount=denied
echo "hostname=$(hostname)"
echo "fds=$(ls /proc/self/fd | wc -l)"
echo "cwd=$(readlink /proc/self/cwd)"
echo "cgroupns=$(grep pids /proc/self/cgroup | cut -d: -f3)"
`

func parseProbe(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func checkProbe(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// R-LSM-g, R-LSM-d, R-TRUST-5, CVE-2024-21626: `trustbox spec`'s defaults, read from inside.
func TestSecureDefaultsFromInside(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sh", "-c", probeScript}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs"})
	})
	r := e.runIn(b, nil, "run", "e2e-probe")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	checkProbe(t, parseProbe(r.stdout), map[string]string{
		"uidmap": "0 100000 65536", "capeff": "0000000020000420", "nnp": "1", "keys": "0",
		"procsys": "ro", "cgroupfs": "ro", "sysfs": "ro", "rootfs": "ro", "mount": "denied",
		"hostname": "trustbox", "fds": "4", "cwd": "/", "cgroupns": "/",
	})
}

// Whatever config arrives, the baseline hardens it (R-LSM-g, R-LSM-d).
func TestBaselineHardensPermissiveConfig(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sh", "-c", probeScript}, func(s *specs.Spec) {
		s.Process.NoNewPrivileges = false
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
		for i := range s.Mounts {
			if s.Mounts[i].Type == "sysfs" || s.Mounts[i].Type == "cgroup" {
				s.Mounts[i].Options = []string{"rw", "nosuid"}
			}
		}
	})
	r := e.runIn(b, nil, "run", "e2e-harden")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	checkProbe(t, parseProbe(r.stdout), map[string]string{
		"nnp": "1", "keys": "0", "procsys": "ro", "sysfs": "ro", "cgroupfs": "ro",
	})
	audit, _ := os.ReadFile(filepath.Join(e.root, "audit.log"))
	if !strings.Contains(string(audit), "noNewPrivileges") || !strings.Contains(string(audit), "R-LSM-g") {
		t.Errorf("the baseline's decisions are not in the create audit event: %s", audit)
	}
}

// A config asking for what the baseline forbids is refused, naming the field
// and the requirement, and nothing is left behind.
func TestBaselineRefusals(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		mutate func(*specs.Spec)
		want   []string
	}{
		{"CAP_SYS_MODULE", func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_SYS_MODULE")
		}, []string{"process.capabilities.bounding", "CAP_SYS_MODULE", "R-TRUST-5"}},
		{"CAP_SYS_PTRACE", func(s *specs.Spec) {
			s.Process.Capabilities.Effective = append(s.Process.Capabilities.Effective, "CAP_SYS_PTRACE")
		}, []string{"process.capabilities.effective", "R-LSM-e"}},
		{"writable docker.sock", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/run/docker.sock", Source: "/run/docker.sock", Type: "bind", Options: []string{"rbind", "rw"}})
		}, []string{"mounts[8].source", "R-LSM-g"}},
		{"writable host /sys", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/host-sys", Source: "/sys", Type: "bind", Options: []string{"rbind"}})
		}, []string{"mounts[8].source", "/sys", "R-LSM-g"}},
		{"/dev/mem", func(s *specs.Spec) {
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/mem", Type: "c", Major: 1, Minor: 1})
		}, []string{"linux.devices[0]", "R-TRUST-5"}},
		{"/dev/mem by its numbers", func(s *specs.Spec) {
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/char/1:1", Type: "c", Major: 1, Minor: 1})
		}, []string{"linux.devices[0]", "R-TRUST-5"}},
		{"all devices", func(s *specs.Spec) {
			s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		}, []string{"linux.resources.devices[0]", "R-TRUST-5"}},
		{"host sysctl", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.panic": "1"}
		}, []string{`linux.sysctl.kernel.panic`, "R-TRUST-5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.bundle([]string{"true"}, tc.mutate)
			r := e.runIn(b, nil, "run", "e2e-refuse")
			if r.code == 0 {
				t.Fatal("the container ran")
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error does not name %q: %s", w, r.stderr)
				}
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 0 {
				t.Errorf("want one error line, got %d: %s", n+1, r.stderr)
			}
		})
	}
	data, _ := os.ReadFile(filepath.Join(e.root, "audit.log"))
	if strings.Count(string(data), `"event":"refuse"`) != len(tests) {
		t.Errorf("every refusal must be an audit event (R-OPS-6): %s", data)
	}
}

// CVE-2021-30465: mount targets that go through symlinks the image planted
// towards the host are resolved inside the rootfs, as if it were "/": a
// missing target behind such a link is made inside the rootfs (as runc
// does), and nothing on the host is touched.
func TestMountTargetSymlinkStaysInRootfs(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	// Inside, both mounts sit where the links lead within the rootfs.
	b := e.bundle([]string{"grep", "-q", " " + host + "/sub tmpfs ", "/proc/mounts"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/evil/sub", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/evil2/sub", Type: "tmpfs", Source: "tmpfs"})
	})
	if err := os.Symlink(host, filepath.Join(b, "rootfs", "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../"+host, filepath.Join(b, "rootfs", "evil2")); err != nil {
		t.Fatal(err)
	}
	r := e.runIn(b, nil, "run", "e2e-symlink")
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Fatalf("the runtime wrote through the symlink into the host: %v", ents)
	}
	if r.code != 0 {
		t.Fatalf("the mounts are not where the links lead inside the rootfs: exit %d: %s", r.code, r.stderr)
	}
}

// An id-mapped bind mount makes a host directory owned by root appear owned
// by the container's root (and writable by it), nothing else changing on the host.
func TestIdmappedBindMount(t *testing.T) {
	e := newEnv(t)
	vol := t.TempDir()
	if err := os.Chmod(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: spec.DefaultMapping, Size: 65536}}
	b := e.bundle([]string{"sh", "-c", "stat -c %u:%g /vol /plain; touch /vol/written && echo vol-writable; touch /plain/x 2>/dev/null || echo plain-denied"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/vol", Source: vol, Type: "bind", Options: []string{"bind"}, UIDMappings: m, GIDMappings: m},
			specs.Mount{Destination: "/plain", Source: vol, Type: "bind", Options: []string{"bind"}})
	})
	r := e.runIn(b, nil, "run", "e2e-idmap")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "0:0 65534:65534 vol-writable plain-denied" {
		t.Fatalf("inside: %q", r.stdout)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(vol, "written"), &st); err != nil || st.Uid != 0 {
		t.Fatalf("file written through the id-mapped mount: uid %d, %v (want host root)", st.Uid, err)
	}
}

// In a user namespace a device is a bind of the host's node, made by the
// runtime as host root: only a node of the type and numbers the config
// names is bound, never another host file (which would then be readable
// inside); and the bind is a one-way slave, so a mount over it inside the
// container (here by a createContainer hook, which holds CAP_SYS_ADMIN in
// the container's user namespace) never reaches the host's mount table,
// even when the node sits on a shared mount.
func TestDeviceBindsStayInside(t *testing.T) {
	e := newEnv(t)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("host-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := e.bundle([]string{"cat", secret}, func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: secret, Type: "c", Major: 1, Minor: 3})
	})
	if r := e.runIn(b, nil, "run", "e2e-dev-file"); r.code == 0 || strings.Contains(r.stdout, "host-secret") || !strings.Contains(r.stderr, "linux.devices") {
		t.Errorf("a host file named as a device: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}

	shared := t.TempDir()
	if err := unix.Mount("tmpfs", shared, "tmpfs", 0, "mode=755"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(shared, unix.MNT_DETACH)
	if err := unix.Mount("", shared, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(shared, "null")
	if err := unix.Mknod(node, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	b = e.bundle([]string{"true"}, func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: node, Type: "c", Major: 1, Minor: 3})
	})
	rootfs := filepath.Join(b, "rootfs")
	spec := readSpec(t, b)
	spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/busybox",
		Args: []string{"busybox", "mount", "--bind", filepath.Join(rootfs, "bin/busybox"), filepath.Join(rootfs, node)}}}}
	writeSpec(t, b, spec)
	if r := e.runIn(b, nil, "run", "e2e-dev-shared"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mi), " "+node+" ") {
		t.Fatalf("the container's mount over %s reached the host:\n%s", node, mi)
	}
}

// Many devices in a user namespace: the runtime passes at most what one
// message carries and init binds the rest itself.
func TestManyDevices(t *testing.T) {
	if _, err := os.Stat("/dev/tty63"); err != nil {
		t.Skip("no /dev/tty1..63 on this host")
	}
	e := newEnv(t)
	b := e.bundle([]string{"sh", "-c", "ls /dev/tty* | wc -l"}, func(s *specs.Spec) {
		for i := 1; i <= 63; i++ {
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: fmt.Sprintf("/dev/tty%d", i), Type: "c", Major: 4, Minor: int64(i)})
		}
	})
	r := e.runIn(b, nil, "run", "e2e-many-dev")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "64" { // tty1..63 and tty
		t.Fatalf("exit %d, %q devices: %s", r.code, r.stdout, r.stderr)
	}
}

// An id-mapped bind, made by the runtime as host root, is a one-way slave
// like every other bind, also when the mount is of type rbind (all its
// submounts) or asks for shared propagation: a mount a createContainer hook
// makes over it, or over a submount, never reaches the host.
func TestIdmappedBindStaysInside(t *testing.T) {
	e := newEnv(t)
	shared := t.TempDir()
	if err := unix.Mount("tmpfs", shared, "tmpfs", 0, "mode=755"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(shared, unix.MNT_DETACH)
	sub := filepath.Join(shared, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "mode=755"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("", shared, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(shared, "x"), filepath.Join(sub, "y")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: spec.DefaultMapping, Size: 65536}}
	for _, c := range []struct {
		name, typ string
		opts      []string
		over      string // inside the mount
	}{
		{"rbind type", "rbind", nil, "sub/y"},
		{"rshared", "bind", []string{"rbind", "rshared"}, "x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.bundle([]string{"true"}, func(s *specs.Spec) {
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol", Source: shared, Type: c.typ, Options: c.opts, UIDMappings: m, GIDMappings: m})
			})
			s := readSpec(t, b)
			rootfs := filepath.Join(b, "rootfs")
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/busybox",
				Args: []string{"busybox", "mount", "-t", "tmpfs", "inside", filepath.Join(rootfs, "vol", c.over)}}}}
			writeSpec(t, b, s)
			if r := e.runIn(b, nil, "run", "e2e-idmap-prop"); r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			mi, err := os.ReadFile("/proc/self/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			if target := " " + filepath.Join(shared, c.over) + " "; strings.Contains(string(mi), target) {
				t.Fatalf("the container's mount over %s reached the host:\n%s", c.over, mi)
			}
		})
	}
}

// A fifo device is made afresh inside a user namespace too, never bound
// from the host (a host fifo would be a channel out).
func TestFifoDeviceIsFresh(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"test", "-p", "/dev/myfifo"}, func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/myfifo", Type: "p"})
	})
	r := e.runIn(b, nil, "run", "e2e-fifo")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// An id-mapped mount of type rbind with rro: every mount of it read-only
// (and id-mapped), as a plain rbind with rro is.
func TestIdmappedRbindReadOnly(t *testing.T) {
	e := newEnv(t)
	vol := t.TempDir()
	if err := os.Chmod(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(vol, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "mode=755"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(sub, unix.MNT_DETACH)
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: spec.DefaultMapping, Size: 65536}}
	b := e.bundle([]string{"sh", "-c", "touch /vol/x 2>/dev/null && echo top-writable; touch /vol/sub/x 2>/dev/null && echo sub-writable; stat -c %u /vol/sub"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol", Source: vol, Type: "rbind", Options: []string{"rro"}, UIDMappings: m, GIDMappings: m})
	})
	r := e.runIn(b, nil, "run", "e2e-idmap-rro")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "0" {
		t.Fatalf("exit %d, inside %q (want both read-only and sub owned by the container's root): %s", r.code, r.stdout, r.stderr)
	}
}
