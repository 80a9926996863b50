package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/spec"
	"github.com/trustbox/trustbox/internal/testutil"
)

// TestCgroupV2VM runs real containers on a pure cgroup v2 host: this machine
// (and CI's) is hybrid, whose v2 tree has no controllers, so the v2 resource
// path (memory.max, cpu.max, cpu.weight, pids.max, the freezer, cgroup.kill,
// the eBPF device filter, the cgroup2 mount inside the container) would
// otherwise never meet a kernel (R-ISO-3, R-LSM-g). It boots Debian's kernel
// in QEMU with cgroup_no_v1=all and an initramfs holding busybox, the static
// trustbox and three bundles; a script there does what systemd does on a v2
// host (mount cgroup2, offer the root's controllers to its children), drives
// trustbox, and prints "TBVM key value" lines on the serial console, which
// this test reads as they come.
func TestCgroupV2VM(t *testing.T) {
	testutil.RequiresRoot(t)
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 is not installed (scripts/deps installs qemu-system-x86)")
	}
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(kernels) == 0 {
		t.Skip("no kernel image in /boot (scripts/deps installs linux-image-amd64)")
	}
	sort.Strings(kernels)
	kernel := kernels[len(kernels)-1]
	bin := testutil.TrustboxBinary(t)
	dir := t.TempDir()
	// internal/cgroups' own tests run in the guest too, on a real v2 tree
	// (here they meet the hybrid host's controller-less one).
	unit := filepath.Join(dir, "cgroups.test")
	build := exec.Command("go", "test", "-c", "-o", unit, "./internal/cgroups")
	build.Dir, build.Env = testutil.RepoRoot(), append(os.Environ(), "CGO_ENABLED=0") // static: the guest has no libc
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build internal/cgroups tests: %v\n%s", err, out)
	}
	initrd := filepath.Join(dir, "initrd.gz")
	if err := buildV2Initramfs(t, initrd, map[string]string{"bin/trustbox": bin, "bin/cgroups.test": unit}); err != nil {
		t.Fatal(err)
	}

	got, serial := bootV2VM(t, qemu, kernel, initrd)
	t.Logf("serial console:\n%s", serial)
	want := map[string]string{
		// (a) the container starts and exits 0 under the limits.
		"run-exit": "0",
		// (b) the limits, as the container reads them in its own cgroup2.
		"in-memory": "67108864", "in-pids": "12", "in-cpu-max": "50000 100000",
		"in-memory-high": "62914560", // linux.resources.unified
		"in-cpu-weight":  "20",       // cpu.shares 512 on v2's scale (runc's conversion)
		"in-cgroup":      "0::/", "in-mount": "cgroup2 ro",
		// (c) the cgroupfs is read-only from inside.
		"in-write-pids-max": "denied",
		// The eBPF device filter lets the default devices through.
		"in-dev-null": "ok",
		// (d) pids.max is enforced.
		"in-fork-limited": "yes",
		// (e) run deleted the container: no cgroup left.
		"left-after-run": "no",
		// (f) update changes a running container's limits.
		"upd-run-exit": "0", "upd-before": "max max", "update-exit": "0",
		"upd-after": "33554432 7", "upd-inside": "33554432 7",
		"stats-memory-limit": `"memory_limit":33554432`, "stats-pids-limit": `"pids_limit":7`,
		// pause and resume through cgroup.freeze, done when cgroup.events says so.
		"pause-exit": "0", "paused-events": "frozen 1", "paused-state": "paused",
		"resume-exit": "0", "resumed-events": "frozen 0",
		"delete-exit": "0", "left-after-delete": "no",
		// Without a cgroup namespace: the container's own cgroup, read-only.
		"nons-exit": "0", "nons-cgroup": "0::/trustbox/tbnons", "nons-pids": "4096",
		"nons-mount": "ro", "nons-write": "denied",
		// internal/cgroups' tests on a pure v2 host.
		"unit-tests-exit": "0",
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: no report from the VM", k)
		case strings.HasPrefix(k, "stats-") && !strings.Contains(v, want[k]):
			t.Errorf("%s: %q does not hold %s", k, v, want[k])
		case !strings.HasPrefix(k, "stats-") && v != want[k]:
			t.Errorf("%s: got %q, want %q", k, v, want[k])
		}
	}
}

// bootV2VM boots the VM and returns the TBVM reports and the whole console.
// It reads the console until the guest powers off (QEMU then exits), within
// an overall timeout.
func bootV2VM(t *testing.T, qemu, kernel, initrd string) (map[string]string, string) {
	// TCG, not KVM, by default: nested KVM under Firecracker (this machine,
	// and CI's) hangs the guest right after the kernel's real-mode setup, and
	// a boot under TCG takes ~10 s. TRUSTBOX_VM_ACCEL=kvm uses KVM where it works.
	// One vCPU: a CI run with other test packages busy on both host CPUs
	// saw both guest vCPUs in soft lockup for the whole timeout (each
	// spinning in the kernel, as on a cross-CPU call whose target vCPU
	// thread is not running); a single vCPU waits on nobody and is as fast.
	accel := os.Getenv("TRUSTBOX_VM_ACCEL")
	if accel == "" {
		accel = "tcg"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-accel", accel, "-m", "512", "-smp", "1",
		"-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
		"-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 panic=-1 quiet")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", qemu, err)
	}
	got := map[string]string{}
	var serial strings.Builder
	report := regexp.MustCompile(`^TBVM (\S+) ?(.*)$`)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		serial.WriteString(line + "\n")
		if m := report.FindStringSubmatch(line); m != nil {
			got[m[1]] = strings.TrimSpace(m[2])
			if m[1] == "booted" {
				t.Logf("guest booted in %s", time.Since(start).Round(100*time.Millisecond))
			}
		}
	}
	err = cmd.Wait()
	t.Logf("VM ran %s", time.Since(start).Round(100*time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("VM did not power off within the timeout; console:\n%s", serial.String())
	}
	if err != nil {
		t.Fatalf("qemu: %v: %s\nconsole:\n%s", err, stderr.String(), serial.String())
	}
	if got["done"] != "yes" {
		t.Fatalf("the guest script did not finish; console:\n%s", serial.String())
	}
	return got, serial.String()
}

// stage1 runs first, on the initramfs itself, which pivot_root cannot leave
// (the kernel refuses to pivot away from rootfs): it copies the files to a
// tmpfs and makes that the root, where trustbox's pivot_root works.
const stage1 = `#!/bin/busybox sh
/bin/busybox mount -t tmpfs -o mode=0755 tmpfs /new
for f in /*; do [ "$f" = /new ] || /bin/busybox cp -a "$f" /new/; done
exec /bin/busybox switch_root /new /stage2
`

// stage2 is the pure v2 host: it mounts cgroup2 as systemd does and enables
// the root's controllers for its children (as systemd does too), then drives
// trustbox. Nothing below the root is prepared: making /trustbox's
// controllers reach the container is trustbox's job.
const stage2 = `#!/bin/sh
export PATH=/bin
say() { echo "TBVM $*"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
say booted $(cut -d' ' -f1 /proc/uptime)
echo "+memory +pids +cpu +io" > /sys/fs/cgroup/cgroup.subtree_control
say root-subtree-control $(cat /sys/fs/cgroup/cgroup.subtree_control)
cg=/sys/fs/cgroup/trustbox

cd /bundle && trustbox run tbv2
say run-exit $?
[ -e $cg/tbv2 ] && say left-after-run yes || say left-after-run no

trustbox run -d --bundle /bundle2 tbupd
say upd-run-exit $?
say upd-before $(cat $cg/tbupd/memory.max $cg/tbupd/pids.max)
trustbox update --memory 33554432 --pids-limit 7 tbupd
say update-exit $?
say upd-after $(cat $cg/tbupd/memory.max $cg/tbupd/pids.max)
say upd-inside $(trustbox exec tbupd cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max)
stats=$(trustbox events --stats tbupd)
say stats-memory-limit $stats
say stats-pids-limit $stats
trustbox pause tbupd
say pause-exit $?
say paused-events $(grep frozen $cg/tbupd/cgroup.events)
say paused-state $(trustbox state tbupd | grep -o '"status": *"[a-z]*"' | cut -d'"' -f4)
trustbox resume tbupd
say resume-exit $?
say resumed-events $(grep frozen $cg/tbupd/cgroup.events)
trustbox delete -f tbupd
say delete-exit $?
[ -e $cg/tbupd ] && say left-after-delete yes || say left-after-delete no
trustbox run --bundle /bundle3 tbnons
say nons-exit $?
cgroups.test -test.v 2>&1
say unit-tests-exit $?
say done yes
poweroff -f
`

// inside runs in the limited container (pids.max 12). The fork test comes
// last, in a subshell (busybox sh exits when it cannot fork), and what
// follows it uses shell builtins only: no fork is needed to report.
const inside = `say() { echo "TBVM $*"; }
say in-memory $(cat /sys/fs/cgroup/memory.max)
say in-memory-high $(cat /sys/fs/cgroup/memory.high)
say in-pids $(cat /sys/fs/cgroup/pids.max)
say in-cpu-max $(cat /sys/fs/cgroup/cpu.max)
say in-cpu-weight $(cat /sys/fs/cgroup/cpu.weight)
say in-cgroup $(cat /proc/self/cgroup)
say in-mount $(grep ' /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1)
if echo 100 2>/dev/null >/sys/fs/cgroup/pids.max; then say in-write-pids-max allowed; else say in-write-pids-max denied; fi
echo x >/dev/null && say in-dev-null ok
(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 60 & done) 2>/tmp/fork.err
kill -9 -1
wait
limited=no
while read -r l; do case "$l" in *"can't fork"*) limited=yes;; esac; done </tmp/fork.err
say in-fork-limited $limited
`

// noCgroupNS runs in a container without a cgroup namespace of its own.
const noCgroupNS = `say() { echo "TBVM $*"; }
say nons-cgroup $(cat /proc/self/cgroup)
say nons-pids $(cat /sys/fs/cgroup/pids.max)
say nons-mount $(grep ' /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1)
if echo 100 2>/dev/null >/sys/fs/cgroup/pids.max; then say nons-write allowed; else say nons-write denied; fi
`

// buildV2Initramfs writes a gzipped newc cpio: busybox and its applets, the
// static binaries (trustbox, internal/cgroups' tests), the two stage
// scripts, and three bundles sharing one busybox rootfs: /bundle (limited,
// runs inside), /bundle2 (sleeps, for update, pause and delete) and
// /bundle3 (no cgroup namespace, runs noCgroupNS).
func buildV2Initramfs(t *testing.T, path string, bins map[string]string) error {
	rootfs := filepath.Join(testutil.BusyboxRootfs(t), "rootfs")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	w := &cpioWriter{w: zw}
	for _, d := range []string{"dev", "proc", "sys", "tmp", "run", "new", "bundle", "bundle2"} {
		w.dir(d)
	}
	w.node("dev/console", unix.S_IFCHR|0o600, unix.Mkdev(5, 1))
	w.file("init", 0o755, []byte(stage1))
	w.file("stage2", 0o755, []byte(stage2))

	// The guest's /bin is the rootfs's /bin (busybox and its applets); the
	// container's rootfs is a copy of it under /bundle/rootfs.
	err = filepath.WalkDir(rootfs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(rootfs, p)
		names := []string{filepath.Join("bundle", "rootfs", rel)}
		if rel == "bin" || strings.HasPrefix(rel, "bin/") {
			names = append(names, rel)
		}
		for _, name := range names {
			info, err := d.Info()
			if err != nil {
				return err
			}
			switch {
			case d.IsDir():
				w.dir(name)
			case d.Type()&fs.ModeSymlink != 0:
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				w.symlink(name, target)
			default:
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				w.file(name, uint32(info.Mode().Perm()), data)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("initramfs: rootfs: %w", err)
	}
	for name, src := range bins { // after bin/: the kernel makes no parents
		data, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("initramfs: %w", err)
		}
		w.file(name, 0o755, data)
	}

	mem, pids, quota, period, shares := int64(64<<20), int64(12), int64(50000), uint64(100000), uint64(512)
	limited := v2Spec([]string{"sh", "-c", inside}, "rootfs")
	limited.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
	limited.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	limited.Linux.Resources.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period, Shares: &shares}
	limited.Linux.Resources.Unified = map[string]string{"memory.high": "62914560"} // 60 MiB: the kernel keeps page multiples
	sleeper := v2Spec([]string{"sleep", "1000"}, "/bundle/rootfs")
	sleeper.Linux.Resources.Pids = nil // "max": update sets the first limit
	// No cgroup namespace: its user namespace may not mount cgroup2, so it
	// sees its own cgroup directory, read-only.
	nons := v2Spec([]string{"sh", "-c", noCgroupNS}, "/bundle/rootfs")
	for i, ns := range nons.Linux.Namespaces {
		if ns.Type == specs.CgroupNamespace {
			nons.Linux.Namespaces = append(nons.Linux.Namespaces[:i], nons.Linux.Namespaces[i+1:]...)
			break
		}
	}
	w.dir("bundle3")
	for name, s := range map[string]*specs.Spec{"bundle/config.json": limited, "bundle2/config.json": sleeper, "bundle3/config.json": nons} {
		data, err := json.MarshalIndent(s, "", " ")
		if err != nil {
			return fmt.Errorf("initramfs: %s: %w", name, err)
		}
		w.file(name, 0o644, data)
	}
	w.trailer()
	if w.err != nil {
		return fmt.Errorf("initramfs: %w", w.err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("initramfs: %w", err)
	}
	return f.Close()
}

// v2Spec is trustbox's secure default spec (what `trustbox spec` writes)
// running args from the rootfs at root.
func v2Spec(args []string, root string) *specs.Spec {
	s := spec.Default(false, 0, 0)
	s.Process.Terminal = false
	s.Process.Args = args
	s.Root.Path = root
	return s
}

// cpioWriter writes the "newc" format the kernel unpacks as an initramfs.
type cpioWriter struct {
	w   interface{ Write([]byte) (int, error) }
	ino uint32
	err error
}

func (c *cpioWriter) entry(name string, mode uint32, rdev uint64, data []byte) {
	if c.err != nil {
		return
	}
	c.ino++
	// The container's rootfs belongs to its mapped root, as a prepared image
	// does: the guest kernel (6.1) has no id-mapped mounts on tmpfs (6.3+),
	// which an image owned by host root would need.
	owner := 0
	if strings.HasPrefix(name, "bundle/rootfs") {
		owner = spec.DefaultMapping
	}
	nlink := 1
	if mode&unix.S_IFMT == unix.S_IFDIR {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, owner, owner, nlink, 0, len(data), 0, 0, unix.Major(rdev), unix.Minor(rdev), len(name)+1, 0)
	buf := append([]byte(hdr), name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	buf = append(buf, data...)
	buf = pad4(buf)
	_, c.err = c.w.Write(buf)
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (c *cpioWriter) dir(name string) { c.entry(name, unix.S_IFDIR|0o755, 0, nil) }
func (c *cpioWriter) file(name string, perm uint32, data []byte) {
	c.entry(name, unix.S_IFREG|perm, 0, data)
}
func (c *cpioWriter) symlink(name, target string) {
	c.entry(name, unix.S_IFLNK|0o777, 0, []byte(target))
}
func (c *cpioWriter) node(name string, mode uint32, rdev uint64) { c.entry(name, mode, rdev, nil) }
func (c *cpioWriter) trailer()                                   { c.entry("TRAILER!!!", 0, 0, nil) }
