package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/testutil"
)

// A create killed after making its cgroup but before saving state.json
// leaves a state dir whose xattr names the cgroup: `delete --force` kills
// what runs there and removes the cgroup and the dir.
func TestDeleteForceFindsOrphanCgroup(t *testing.T) {
	testutil.RequiresRoot(t)
	r := &Runtime{Root: t.TempDir()}
	id := fmt.Sprintf("orphan-%d", os.Getpid())
	if err := os.Mkdir(r.dir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	path := "/trustbox-test/" + id
	r.markCgroup(id, path)
	if got := r.orphanCgroup(id); got != path {
		t.Skipf("the state root's filesystem keeps no trusted xattrs (%q): nothing to recover from", got)
	}
	cg, err := cgroups.New(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cg.Create(); err != nil {
		t.Fatal(err)
	}
	defer cg.Destroy()
	t.Cleanup(func() {
		for _, dir := range cg.Dirs {
			os.Remove(filepath.Dir(dir)) // the test's parent, /trustbox-test
		}
	})
	sleep := exec.Command("sleep", "1000")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleep.Process.Kill()
	for _, dir := range cg.Dirs {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0); err != nil {
			t.Fatal(err)
		}
	}
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
