package measure

import (
	"os"
	"path/filepath"
	"testing"
)

// The rootfs digest changes with any content, mode or link change, and only then.
func TestTreeSHA256(t *testing.T) {
	mk := func() string {
		d := t.TempDir()
		os.MkdirAll(filepath.Join(d, "bin"), 0o755)
		os.WriteFile(filepath.Join(d, "bin", "app"), []byte("v1"), 0o755)
		os.Symlink("app", filepath.Join(d, "bin", "sh"))
		return d
	}
	a, b := mk(), mk()
	da, err := TreeSHA256(a)
	if err != nil {
		t.Fatal(err)
	}
	if db, _ := TreeSHA256(b); db != da {
		t.Fatal("identical trees differ")
	}
	for name, change := range map[string]func(string){
		"content": func(d string) { os.WriteFile(filepath.Join(d, "bin", "app"), []byte("v2"), 0o755) },
		"mode":    func(d string) { os.Chmod(filepath.Join(d, "bin", "app"), 0o755|os.ModeSetuid) },
		"link": func(d string) {
			os.Remove(filepath.Join(d, "bin", "sh"))
			os.Symlink("/evil", filepath.Join(d, "bin", "sh"))
		},
		"new file": func(d string) { os.WriteFile(filepath.Join(d, "x"), nil, 0o644) },
	} {
		d := mk()
		change(d)
		if got, _ := TreeSHA256(d); got == da {
			t.Errorf("%s change not reflected in the digest", name)
		}
	}
}
