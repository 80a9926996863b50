package pathrs

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// A container may plant symlinks that point out of its rootfs; every
// operation here must stay inside (CVE-2021-30465, R-LSM-g).
func TestSymlinksStayInsideRoot(t *testing.T) {
	host := t.TempDir()
	rootDir := filepath.Join(t.TempDir(), "rootfs")
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"abs":     host,
		"dotdot":  "../../../../../../../../" + host,
		"loop":    "loop",
		"relhost": "/..",
	} {
		if err := os.Symlink(target, filepath.Join(rootDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.Open(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	tests := []struct {
		name string
		do   func() (*os.File, error)
	}{
		{"mkdir through absolute symlink", func() (*os.File, error) { return MkdirAll(root, "/abs/sub", 0o755) }},
		{"mkdir through dotdot symlink", func() (*os.File, error) { return MkdirAll(root, "dotdot/sub", 0o755) }},
		{"create file through symlink", func() (*os.File, error) { return CreateFile(root, "/abs/file") }},
		{"dotdot path", func() (*os.File, error) { return MkdirAll(root, "../../escape", 0o755) }},
		{"relhost", func() (*os.File, error) { return MkdirAll(root, "relhost/x", 0o755) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.do()
			if err == nil {
				defer f.Close()
				var st unix.Stat_t
				if err := unix.Fstat(int(f.Fd()), &st); err != nil {
					t.Fatal(err)
				}
				got, _ := os.Readlink(fmtFd(f))
				if rel, _ := filepath.Rel(rootDir, got); rel == "" || rel[0] == '.' {
					t.Fatalf("resolved outside the rootfs: %s", got)
				}
			}
			entries, _ := os.ReadDir(host)
			if len(entries) != 0 {
				t.Fatalf("host directory was written through a symlink: %v", entries)
			}
		})
	}
	if _, err := MkdirAll(root, "loop/x", 0o755); err == nil {
		t.Fatal("symlink loop: want an error")
	}
}

func fmtFd(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }
