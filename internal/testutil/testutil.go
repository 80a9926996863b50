// Package testutil holds the helpers tests share: root and feature gates, the built binaries, busybox rootfs builders.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// RequiresRoot skips the test when not running as root; CI runs as root.
func RequiresRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (namespaces, mounts, cgroups); CI runs as root")
	}
}

// RequiresBinary skips when a peer program is truly absent from the machine.
func RequiresBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (scripts/deps installs it)", name)
	}
	return p
}

// RepoRoot returns the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildOut  []byte
)

// TrustboxBinary builds cmd/trustbox once per test process (with
// scripts/build) and returns its path.
func TrustboxBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trustbox-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "trustbox")
		// scripts/build, so the tests run the binary as it ships (static,
		// with the inspector embedded in the demo image).
		cmd := exec.Command("bash", "scripts/build")
		cmd.Dir, cmd.Env = RepoRoot(), append(os.Environ(), "OUT="+dir)
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build trustbox: %v\n%s", buildErr, buildOut)
	}
	return buildPath
}

// BusyboxRootfs makes a minimal rootfs from Debian's busybox-static in a temp dir.
func BusyboxRootfs(t testing.TB) string {
	t.Helper()
	bb := "/bin/busybox"
	if _, err := os.Stat(bb); err != nil {
		t.Skip("busybox-static is not installed (scripts/deps installs it)")
	}
	dir := t.TempDir()
	// The rootfs must be traversable by the container's mapped root (a host
	// uid with no rights on root's 0700 test directories).
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/bin", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	apps, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, app := range strings.Fields(string(apps)) {
		if app == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", app)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nuser:x:1000:1000:user:/:/bin/sh\n",
		"etc/group":  "root:x:0:\nnobody:x:65534:\nuser:x:1000:\nextra:x:2000:user\n",
	}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Fill sets every exported field reachable from v to a value that differs
// from the zero value and from its neighbours', allocating pointers, one-
// element slices and maps on the way.
func Fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		Fill(v.Elem(), n)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				Fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		Fill(v.Index(0), n)
		Fill(v.Index(1), n)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		Fill(k, n)
		Fill(e, n)
		v.SetMapIndex(k, e)
	case reflect.String:
		v.SetString("s" + strings.Repeat("x", *n%7) + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n) * -3)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(*n) * 5)
	}
}

// SleepIn starts `sleep 1000` and moves it into each cgroup directory
// given (writing its pid to cgroup.procs): a process of someone else's in
// a cgroup, which a test then checks trustbox leaves alone or kills. It is
// killed and reaped when the test ends.
func SleepIn(t testing.TB, cgroupDirs ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for _, dir := range cgroupDirs {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
			t.Fatal(err)
		}
	}
	return cmd
}
