package hostaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trustbox/trustbox/internal/findings"
)

// Seed corpora live in testdata/fuzz/FuzzXxx/. Every parser must return an
// error or a value for any input, never panic.

func FuzzParseKernelConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		opts, err := ParseKernelConfig(data)
		if err == nil && len(opts) == 0 {
			t.Fatal("no error and no options")
		}
	})
}

func FuzzParseProcNet(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := ParseProcNet("tcp", s)
		if err == nil {
			for _, l := range ls {
				if l.Addr == nil || l.Port < 0 || l.Port > 65535 {
					t.Fatalf("bad listener %+v", l)
				}
			}
		}
		ParseProcNet("udp6", s)
	})
}

func FuzzParseAccounts(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if es, err := ParsePasswd(s); err == nil {
			for _, e := range es {
				if strings.Contains(e.Name, ":") {
					t.Fatalf("name %q holds a colon", e.Name)
				}
			}
		}
		ParseGroup(s)
		ParseShadow(s)
	})
}

func FuzzParseOSRelease(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := ParseOSRelease(s); err == nil && m["ID"] == "" {
			t.Fatal("parsed without an ID")
		}
	})
}

func FuzzKernelVersion(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := KernelRelease(s); err == nil && !strings.Contains(b, ".") {
			t.Fatalf("branch %q", b)
		}
		KernelBuildDate(s)
	})
}

func FuzzSmallParsers(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s := string(data)
		if m, err := ParseLockdown(s); err == nil && strings.ContainsAny(m, "[]") {
			t.Fatalf("mode %q", m)
		}
		ParseSecureBoot(data)
		ParseCmdline(s)
		ParseLSMList(s)
		ParseAppArmorProfiles(s)
		ParseCPUFlags(s)
	})
}

// FuzzHostFiles writes one input into many host files of a fixture and runs
// the whole audit: every finding must be well-formed, whatever the files say.
func FuzzHostFiles(f *testing.F) {
	paths := []string{"proc/sys/kernel/randomize_va_space", "proc/sys/kernel/osrelease", "proc/version", "proc/cmdline",
		"etc/os-release", "etc/passwd", "etc/group", "etc/shadow", "proc/net/tcp", "proc/cpuinfo", "proc/config.gz",
		"sys/kernel/security/lsm", "sys/kernel/security/lockdown", "sys/kernel/security/apparmor/profiles",
		"sys/module/apparmor/parameters/enabled", "sys/fs/selinux/enforce", "proc/sys/kernel/seccomp/actions_avail",
		"sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", "proc/1/comm", "proc/self/mounts"}
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		for _, p := range paths {
			full := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := Run(Options{Root: root, MaxFileSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range rep.Findings {
			if fd.Seen == "" || fd.Where == "" || !validLevel(fd.Level) {
				t.Fatalf("malformed finding %+v", fd)
			}
			if fd.Level == findings.Error && strings.HasPrefix(fd.Seen, "internal error") {
				t.Fatalf("%s panicked: %s", fd.ID, fd.Seen)
			}
			_ = utf8.ValidString(fd.Seen)
		}
	})
}

func validLevel(l findings.Level) bool {
	for _, x := range findings.Levels {
		if l == x {
			return true
		}
	}
	return false
}

// FuzzDebVersions checks the order is antisymmetric and reflexive.
func FuzzDebVersions(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b string) {
		if CompareDebVersions(a, a) != 0 {
			t.Fatalf("%q != itself", a)
		}
		if x, y := sign(CompareDebVersions(a, b)), sign(CompareDebVersions(b, a)); x != -y {
			t.Fatalf("Compare(%q,%q)=%d but Compare(%q,%q)=%d", a, b, x, b, a, y)
		}
	})
}

func FuzzParseDebControl(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := ParseDebControl(s, true); err == nil {
			for p, v := range m {
				if p == "" || v == "" {
					t.Fatalf("empty package or version in %v", m)
				}
			}
		}
		ParseAptSimulation(s)
	})
}
