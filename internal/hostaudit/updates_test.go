package hostaudit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustbox/trustbox/internal/findings"
)

// Debian version order as dpkg --compare-versions defines it.
func TestCompareDebVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.1", -1}, {"1.10", "1.9", 1}, {"1.0~rc1", "1.0", -1}, {"1.0", "1.0+b1", -1},
		{"1:0.9", "2.0", 1}, {"3.0.15-1~deb12u1", "3.0.17-1~deb12u2", -1}, {"20230311+deb12u1", "20250419~deb12u2", -1},
		{"2.36-9+deb12u9", "2.36-9+deb12u10", -1}, {"1.0-1", "1.0-1~bpo1", 1}, {"1.0a", "1.0", 1}, {"1.0", "1.0-0", 0},
		{"1.9.13p3-1+deb12u1", "1.9.13p3-1+deb12u2", -1}, {"007", "7", 0}, {"1.0.", "1.0", 1}, {"a", "+", -1},
	} {
		got := CompareDebVersions(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestParseDebControl(t *testing.T) {
	st := "Package: a\nStatus: install ok installed\nVersion: 1.0\nDescription: x\n more: text\n\n" +
		"Package: b\nStatus: deinstall ok config-files\nVersion: 2.0\n\n" +
		"Package: a\nStatus: install ok installed\nVersion: 1.1\n"
	got, err := ParseDebControl(st, true)
	if err != nil || len(got) != 1 || got["a"] != "1.1" {
		t.Errorf("installed = %v, %v", got, err)
	}
	if all, _ := ParseDebControl(st, false); len(all) != 2 {
		t.Errorf("all = %v", all)
	}
	if _, err := ParseDebControl("Package a\n", false); err == nil {
		t.Error("a line without a colon was accepted")
	}
}

func TestParseAptSimulation(t *testing.T) {
	out := "NOTE: simulation\nInst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])\n" +
		"Inst apt [2.6.1] (2.6.2 Debian-Security:12/oldstable-security [amd64])\nConf apt (2.6.2 Debian-Security:12/oldstable-security [amd64])\n"
	got := ParseAptSimulation(out)
	if len(got) != 1 || got[0] != "apt 2.6.1 -> 2.6.2" {
		t.Errorf("got %q", got)
	}
}

// Security metadata older than a week no longer vouches for "no updates".
func TestStaleSecurityLists(t *testing.T) {
	root := t.TempDir()
	write(t, root, "var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nVersion: 1.0\n")
	write(t, root, "var/lib/apt/lists/x_debian-security_InRelease", "")
	write(t, root, "var/lib/apt/lists/x_debian-security_main_binary-amd64_Packages", "Package: a\nVersion: 1.0\n")
	old := fixtureNow().Add(-30 * 24 * time.Hour)
	must(t, os.Chtimes(filepath.Join(root, "var/lib/apt/lists/x_debian-security_InRelease"), old, old))
	rep, err := Run(Options{Root: root, Now: fixtureNow, Only: []string{"OS-UPDATES"}})
	must(t, err)
	if f := rep.Findings[0]; f.Level != findings.Warn || !strings.Contains(f.Seen, "30 days old") {
		t.Errorf("OS-UPDATES = %s %q, want warn about 30-day-old metadata", f.Level, f.Seen)
	}
	must(t, os.Remove(filepath.Join(root, "var/lib/apt/lists/x_debian-security_main_binary-amd64_Packages")))
	write(t, root, "var/lib/apt/lists/x_debian-security_main_binary-amd64_Packages.lz4", "")
	rep, _ = Run(Options{Root: root, Now: fixtureNow, Only: []string{"OS-UPDATES"}})
	if f := rep.Findings[0]; f.Level != findings.Info || !strings.Contains(f.Seen, "compressed") {
		t.Errorf("compressed lists on a fixture: %s %q, want info", f.Level, f.Seen)
	}
}
