package hostaudit

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/findings"
)

// Malformed host files (binary, truncated, garbage) give an error finding
// naming the file and the reason, never a crash or a false pass.
func TestMalformedFilesGiveErrors(t *testing.T) {
	got := runFixture(t, "malformed", Options{})
	wantErr := map[string]string{
		"HARDEN-ASLR":            "binary data",
		"HARDEN-DMESG-RESTRICT":  "empty",
		"HARDEN-KPTR-RESTRICT":   "not an integer",
		"HARDEN-LOCKDOWN":        "no [mode]",
		"HARDEN-MITIGATIONS":     "binary data",
		"HARDEN-USERNS":          "binary data",
		"HARDEN-CPU-FEATURES":    "binary data",
		"HARDEN-CPU-VULNS":       "binary data",
		"KCONFIG-STACKPROTECTOR": "gzip",
		"KERNEL-BRANCH":          "not MAJOR.MINOR",
		"KERNEL-BUILD-AGE":       "binary data",
		"KERNEL-HOST-OS":         "binary data",
		"OS-UPDATES":             "binary data",
		"ACCOUNT-UID0":           "line 2",
		"ACCOUNT-EMPTY-PASSWORD": "line 1",
		"ACCOUNT-ADMIN-GROUPS":   "want 4",
		"IFACE-LISTEN":           "hex digits",
		"IFACE-GETTY":            "binary data",
		"LSM-ACTIVE":             "binary data",
		"LSM-APPARMOR":           "no (mode)",
		"LSM-SELINUX":            "unexpected value",
		"LSM-SECCOMP":            "binary data",
		"TRUST-IMA":              "binary data",
		"TRUST-SECUREBOOT":       "3 bytes",
	}
	for id, reason := range wantErr {
		f := got[id]
		if f.Level != findings.Error || !strings.Contains(f.Seen, reason) {
			t.Errorf("%s = %s %q, want error mentioning %q", id, f.Level, f.Seen, reason)
		}
		if f.Where == "" || f.Fix == "" {
			t.Errorf("%s: error without where/fix: %+v", id, f)
		}
	}
}

func TestHugeFilesAreRefused(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/sys/kernel/randomize_va_space", strings.Repeat("2", 1<<12))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("CONFIG_X=y\n"), 1<<16)) // a small gzip that inflates past the limit
	zw.Close()
	write(t, root, "proc/config.gz", gz.String())
	rep, err := Run(Options{Root: root, MaxFileSize: 1024, Only: []string{"HARDEN-ASLR", "KCONFIG-KASLR"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 {
		t.Fatalf("want 2 findings, got %+v", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.Level != findings.Error || !strings.Contains(f.Seen, "larger than the size limit") {
			t.Errorf("%s = %s %q, want a size-limit error", f.ID, f.Level, f.Seen)
		}
	}
	if rep.ExitCode() != findings.ExitError {
		t.Errorf("exit code %d, want %d", rep.ExitCode(), findings.ExitError)
	}
}

// Symlinks in a fixture resolve inside the fixture: an absolute target
// restarts at the fixture root, and ".." cannot climb out of it.
func TestSymlinksStayInsideRoot(t *testing.T) {
	root := t.TempDir()
	write(t, root, "run/docker.sock", "")
	write(t, root, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nmallory:x:0:0::/:/bin/sh\n")
	os.MkdirAll(filepath.Join(root, "var"), 0o755)
	must(t, os.Symlink("/run", filepath.Join(root, "var/run")))
	os.MkdirAll(filepath.Join(root, "x"), 0o755)
	must(t, os.Symlink("../../../../../../../etc/passwd", filepath.Join(root, "x/passwd")))
	r, err := os.OpenRoot(root)
	must(t, err)
	defer r.Close()
	s := &source{root: r, dir: root, max: DefaultMaxFileSize, probe: noProbe{}}
	if !s.exists("/var/run/docker.sock") {
		t.Error("/var/run/docker.sock (via absolute symlink /var/run -> /run) not found")
	}
	data, err := s.text("/x/passwd")
	if err != nil || !strings.Contains(data, "mallory") {
		t.Errorf("x/passwd should resolve to the fixture's /etc/passwd, got %q, %v", data, err)
	}
	must(t, os.Symlink("loop", filepath.Join(root, "loop")))
	if _, err := s.text("/loop"); err == nil {
		t.Error("a symlink loop was read")
	}
}

func write(t *testing.T, root, p, data string) {
	t.Helper()
	full := filepath.Join(root, p)
	must(t, os.MkdirAll(filepath.Dir(full), 0o755))
	must(t, os.WriteFile(full, []byte(data), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
