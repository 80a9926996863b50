package vtpm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
)

// Implements R-TRUST-7: each swtpm runs as its own unprivileged uid and
// owns only its own 0700 state directory.
func TestManagerSeparateUIDs(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.RequiresBinary(t, "swtpm")
	dir := t.TempDir()
	// swtpm's uid must be able to traverse down to its state directory.
	os.Chmod(filepath.Dir(dir), 0o711)
	os.Chmod(dir, 0o711)
	const base = 0x60000000
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: filepath.Join(dir, "m"), UIDBase: base, UIDCount: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer destroyAll(t, m)
	seen := map[string]bool{}
	for _, id := range []string{"u1", "u2"} {
		if _, err := m.Create(context.Background(), id, request("")); err != nil {
			t.Fatal(err)
		}
		info, _ := m.Show(id)
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", info.PID))
		var uid string
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
				uid = f[1]
			}
		}
		if uid == "" || uid == "0" || seen[uid] {
			t.Errorf("%s: swtpm runs as uid %q (seen %v), want its own non-root uid", id, uid, seen)
		}
		seen[uid] = true
		fi, err := os.Stat(filepath.Join(dir, "m", "vtpm", id, "state"))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fmt.Sprint(st.Uid) != uid || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: state dir owned by %d mode %o, want uid %s mode 0700", id, st.Uid, fi.Mode().Perm(), uid)
		}
		key, _ := os.Stat(filepath.Join(dir, "m", "vtpm", id, "state.key"))
		if key.Sys().(*syscall.Stat_t).Uid != 0 || key.Mode().Perm() != 0o600 {
			t.Errorf("%s: state key must stay root's, 0600", id)
		}
		if v := verify(t, m, id); !v.Trusted {
			t.Errorf("%s: %v", id, v.Reasons)
		}
	}
}
