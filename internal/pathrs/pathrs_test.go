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

// A symlink whose target is missing has its target made inside the root, as
// runc does, and never on the host, however the link is spelled.
func TestMkdirAllThroughDanglingSymlinks(t *testing.T) {
	host := t.TempDir()
	rootDir := filepath.Join(t.TempDir(), "rootfs")
	if err := os.MkdirAll(rootDir, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"varrun":  "/run",                                   // absolute, in-root meaning
		"abshost": host + "/made",                           // a host path: made inside the root
		"dotdot":  "../../../../../../../../" + host + "/x", // climbs above the root: stops at it
		"chain1":  "chain2",                                 // a chain of dangling links
		"chain2":  "deep/dir",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(rootDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A chain longer than the kernel's 40 links.
	for i := 0; i < 45; i++ {
		if err := os.Symlink("l"+strconv.Itoa(i+1), filepath.Join(rootDir, "l"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.Open(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tc := range []struct{ target, made string }{
		{"/varrun/sub", "run/sub"},
		{"/abshost/sub", filepath.Join(host, "made/sub")[1:]},
		{"/dotdot/sub", filepath.Join(host, "x/sub")[1:]},
		{"/chain1/sub", "deep/dir/sub"},
	} {
		f, err := MkdirAll(root, tc.target, 0o755)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		f.Close()
		if st, err := os.Stat(filepath.Join(rootDir, tc.made)); err != nil || !st.IsDir() {
			t.Errorf("%s: %s not made inside the root: %v", tc.target, tc.made, err)
		}
	}
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Fatalf("made on the host: %v", ents)
	}
	if _, err := MkdirAll(root, "/l0/x", 0o755); err == nil {
		t.Fatal("45 chained links: want an error")
	}
}
