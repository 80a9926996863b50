package runtime

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/testutil"
)

// orphanOf leaves what a create killed before its first save leaves: a
// state dir for id whose record names the cgroup /trustbox-test/id, made.
// The cgroup goes when the test ends, after SleepIn's processes (cleanups
// run last first).
func orphanOf(t *testing.T, id string) (*Runtime, *cgroups.Manager) {
	testutil.RequiresRoot(t)
	r := &Runtime{Root: t.TempDir()}
	if err := os.Mkdir(r.dir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	path := "/trustbox-test/" + id
	cg, err := cgroups.New(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cg.Create(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cg.Destroy()
		for _, dir := range cg.Dirs {
			os.Remove(filepath.Dir(dir)) // the test's parent, /trustbox-test
		}
	})
	r.markCgroup(id, cg)
	if ino, got := r.markedCgroup(id); got != path || ino == 0 {
		t.Skipf("the state root's filesystem keeps no trusted xattrs (%q): nothing to recover from", got)
	}
	return r, cg
}

// A create killed after making its cgroup but before saving state.json
// leaves a state dir whose xattr names the cgroup: `delete --force` kills
// what runs there and removes the cgroup and the dir.
func TestDeleteForceFindsOrphanCgroup(t *testing.T) {
	id := fmt.Sprintf("orphan-%d", os.Getpid())
	r, cg := orphanOf(t, id)
	sleep := testutil.SleepIn(t, slices.Collect(maps.Values(cg.Dirs))...)
	if err := r.Delete(id, true); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := sleep.Wait(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the process in the orphan cgroup: %v, want killed", err)
	}
	for _, dir := range cg.Dirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("cgroup %s left: %v", dir, err)
		}
	}
	if _, err := os.Stat(r.dir(id)); !os.IsNotExist(err) {
		t.Errorf("state dir left: %v", err)
	}
}

// The same, when the cgroup at the marked path is no longer the one create
// made (removed and made again, by someone else): delete --force leaves it
// and whatever runs in it alone.
func TestDeleteForceSparesAnotherCgroup(t *testing.T) {
	id := fmt.Sprintf("orphan2-%d", os.Getpid())
	r, cg := orphanOf(t, id)
	if err := cg.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := cg.Create(); err != nil { // someone else's now
		t.Fatal(err)
	}
	other := testutil.SleepIn(t, slices.Collect(maps.Values(cg.Dirs))...)
	if err := r.Delete(id, true); err != nil {
		t.Fatal(err)
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("delete --force killed a process of a cgroup it did not make: %v", err)
	}
	if _, err := os.Stat(r.dir(id)); !os.IsNotExist(err) {
		t.Errorf("state dir left: %v", err)
	}
	// Move it out so the cgroup can go.
	for _, dir := range cg.Dirs {
		os.WriteFile(filepath.Join(filepath.Dir(filepath.Dir(dir)), "cgroup.procs"), []byte(strconv.Itoa(other.Process.Pid)), 0)
	}
}

// On a state root without trusted xattrs (ramfs), the cgroup record goes
// to a file in the state dir and reads back the same.
func TestCgroupMarkWithoutXattrs(t *testing.T) {
	testutil.RequiresRoot(t)
	root := t.TempDir()
	if err := syscall.Mount("ramfs", root, "ramfs", 0, ""); err != nil {
		t.Skipf("no ramfs: %v", err)
	}
	defer syscall.Unmount(root, syscall.MNT_DETACH)
	r := &Runtime{Root: root}
	if err := os.Mkdir(r.dir("m"), 0o700); err != nil {
		t.Fatal(err)
	}
	cg, err := cgroups.New("/trustbox-test/mark")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.markCgroup("m", cg); err != nil {
		t.Fatal(err)
	}
	if ino, path := r.markedCgroup("m"); path != "/trustbox-test/mark" || ino != 0 {
		t.Fatalf("read back %d %q", ino, path)
	}
	if _, err := os.Stat(filepath.Join(r.dir("m"), cgroupMarkFile)); err != nil {
		t.Fatalf("no record file: %v", err)
	}
	if other := r.cgroupOverlap("n", "/trustbox-test/mark/sub"); other != "m" {
		t.Fatalf("overlap with the file record: %q", other)
	}
}
