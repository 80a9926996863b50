package hostaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/auditlog"
	"github.com/trustbox/trustbox/internal/findings"
	"github.com/trustbox/trustbox/internal/testutil"
)

// Modes and owners cannot be kept in git, so these hosts are built in a
// temporary directory. Root is needed for the files to be root-owned.
func TestPermissionChecks(t *testing.T) {
	testutil.RequiresRoot(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		id    string
		want  findings.Level
		seen  string
	}{
		{"world-writable docker socket", func(t *testing.T, root string) {
			write(t, root, "run/docker.sock", "")
			must(t, os.Chmod(filepath.Join(root, "run/docker.sock"), 0o666))
		}, "STACK-SOCKETS", findings.Fail, "world-writable"},
		{"docker socket for the docker group", func(t *testing.T, root string) {
			write(t, root, "etc/group", "root:x:0:\ndocker:x:998:alice,bob\n")
			write(t, root, "run/docker.sock", "")
			must(t, os.Chown(filepath.Join(root, "run/docker.sock"), 0, 998))
			must(t, os.Chmod(filepath.Join(root, "run/docker.sock"), 0o660))
		}, "STACK-SOCKETS", findings.Warn, "group docker (members: alice,bob)"},
		{"root-only containerd socket", func(t *testing.T, root string) {
			write(t, root, "run/containerd/containerd.sock", "")
			must(t, os.Chmod(filepath.Join(root, "run/containerd/containerd.sock"), 0o600))
		}, "STACK-SOCKETS", findings.Pass, "root-only"},
		{"group-writable runc", func(t *testing.T, root string) {
			write(t, root, "usr/sbin/runc", "#!")
			must(t, os.Chmod(filepath.Join(root, "usr/sbin/runc"), 0o775))
		}, "STACK-RUNTIME-BINARIES", findings.Fail, "writable by group"},
		{"listable state dir", func(t *testing.T, root string) {
			must(t, os.MkdirAll(filepath.Join(root, "run/trustbox"), 0o755))
			must(t, os.Chmod(filepath.Join(root, "run/trustbox"), 0o755))
		}, "STACK-STATE-DIRS", findings.Warn, "listable"},
		{"world-writable apparmor policy", func(t *testing.T, root string) {
			must(t, os.MkdirAll(filepath.Join(root, "etc/apparmor.d"), 0o777))
			must(t, os.Chmod(filepath.Join(root, "etc/apparmor.d"), 0o777))
		}, "LSM-CONTROL-FILES", findings.Fail, "/etc/apparmor.d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tt.setup(t, root)
			rep, err := Run(Options{Root: root, Only: []string{tt.id}})
			must(t, err)
			f := rep.Findings[0]
			if f.Level != tt.want || !strings.Contains(f.Seen, tt.seen) {
				t.Errorf("%s = %s %q, want %s mentioning %q", tt.id, f.Level, f.Seen, tt.want, tt.seen)
			}
		})
	}
}

// trustbox's own audit log is verified with its hash chain (R-OPS-2): an
// intact log passes, an edited one fails, a world-writable one fails.
func TestTrustboxAuditLog(t *testing.T) {
	testutil.RequiresRoot(t)
	root := t.TempDir()
	dir := filepath.Join(root, "run/trustbox")
	must(t, os.MkdirAll(dir, 0o700))
	log := auditlog.Open(dir)
	for _, ev := range []string{"create", "start", "delete"} {
		must(t, log.Append(ev, "c1", map[string]any{"bundle": "/b"}))
	}
	check := func(want findings.Level, seen string) {
		t.Helper()
		rep, err := Run(Options{Root: root, Only: []string{"LOG-TRUSTBOX-AUDIT"}})
		must(t, err)
		if f := rep.Findings[0]; f.Level != want || !strings.Contains(f.Seen, seen) {
			t.Errorf("LOG-TRUSTBOX-AUDIT = %s %q, want %s mentioning %q", f.Level, f.Seen, want, seen)
		}
	}
	check(findings.Pass, "3 events, hash chain intact")
	data, err := os.ReadFile(log.Path)
	must(t, err)
	must(t, os.WriteFile(log.Path, []byte(strings.Replace(string(data), `"start"`, `"stopp"`, 1)), 0o600))
	check(findings.Fail, "modified")
	must(t, os.Chmod(log.Path, 0o666))
	check(findings.Fail, "others can rewrite")
}
