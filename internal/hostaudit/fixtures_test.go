package hostaudit

import (
	"os"
	"testing"
	"time"

	"github.com/trustbox/trustbox/internal/findings"
)

// fixtureNow is the date the fixtures' kernel ages are measured against.
var fixtureNow = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }

func runFixture(t *testing.T, host string, opts Options) map[string]findings.Finding {
	t.Helper()
	opts.Root = "testdata/hosts/" + host
	if opts.Now == nil {
		opts.Now = fixtureNow
	}
	rep, err := Run(opts)
	if err != nil {
		t.Fatalf("Run(%s): %v", host, err)
	}
	got := map[string]findings.Finding{}
	for _, f := range rep.Findings {
		if _, dup := got[f.ID]; dup {
			t.Errorf("%s: finding %s reported twice", host, f.ID)
		}
		got[f.ID] = f
	}
	return got
}

// Each fixture host is a recorded /proc, /sys and /etc; the table holds the
// verdicts an operator of that host should see (R-HOST-1..3, R-LSM-*, R-TRUST-1).
func TestFixtureHosts(t *testing.T) {
	P, W, F, I, N := findings.Pass, findings.Warn, findings.Fail, findings.Info, findings.NotApplicable
	tests := []struct {
		host string
		want map[string]findings.Level
	}{
		{"hardened", map[string]findings.Level{
			"KERNEL-BRANCH": P, "KERNEL-BUILD-AGE": P, "KERNEL-HOST-OS": P, "OS-UPDATES": N,
			"HARDEN-ASLR": P, "HARDEN-KPTR-RESTRICT": P, "HARDEN-DMESG-RESTRICT": P, "HARDEN-PERF-PARANOID": P,
			"HARDEN-UNPRIV-BPF": P, "HARDEN-USERNS": P, "HARDEN-PTRACE-SCOPE": P, "HARDEN-MODULES": P, "HARDEN-LOCKDOWN": P,
			"HARDEN-PROTECTED-SYMLINKS": P, "HARDEN-PROTECTED-FIFOS": P, "HARDEN-MITIGATIONS": P, "HARDEN-CPU-FEATURES": P,
			"HARDEN-CPU-VULNS": P, "KCONFIG-STACKPROTECTOR": P, "KCONFIG-CFI": P, "KCONFIG-DEVMEM": P, "HARDEN-TIOCSTI": P,
			"LSM-SECURITYFS": P, "LSM-ACTIVE": P, "LSM-APPARMOR": P, "LSM-SELINUX": N, "LSM-LANDLOCK": P, "LSM-SECCOMP": P,
			"TRUST-TPM": P, "TRUST-EVENTLOG": P, "TRUST-IMA": P, "TRUST-SECUREBOOT": P,
			"ACCOUNT-UID0": P, "ACCOUNT-EMPTY-PASSWORD": P, "ACCOUNT-ADMIN-GROUPS": I,
			"IFACE-SERIAL-CONSOLE": P, "IFACE-GETTY": P, "IFACE-LISTEN": P, "LOG-FACILITY": P, "LOG-TRUSTBOX-AUDIT": I,
		}},
		{"debian-default", map[string]findings.Level{
			"KERNEL-BRANCH": P, "KERNEL-BUILD-AGE": F, "KERNEL-HOST-OS": W, "OS-UPDATES": F,
			"HARDEN-ASLR": P, "HARDEN-KPTR-RESTRICT": W, "HARDEN-USERNS": W, "HARDEN-PTRACE-SCOPE": W, "HARDEN-MODULES": W,
			"HARDEN-LOCKDOWN": W, "HARDEN-KEXEC": W, "HARDEN-SYSRQ": W, "HARDEN-CPU-VULNS": W,
			"KCONFIG-CFI": P, "KCONFIG-DEVMEM": P, "HARDEN-TIOCSTI": W, "KCONFIG-INIT-ON-ALLOC": I,
			"LSM-ACTIVE": P, "LSM-APPARMOR": P, "LSM-SELINUX": N,
			"TRUST-TPM": W, "TRUST-EVENTLOG": N, "TRUST-IMA": W, "TRUST-SECUREBOOT": W,
			"ACCOUNT-ADMIN-GROUPS": W, "ACCOUNT-EMPTY-PASSWORD": P, "IFACE-LISTEN": W, "LOG-FACILITY": W,
		}},
		{"selinux", map[string]findings.Level{
			"KERNEL-BRANCH": P, "KERNEL-BUILD-AGE": P, "HARDEN-MODULES": P, "HARDEN-DMESG-RESTRICT": W, "HARDEN-LOCKDOWN": P,
			"HARDEN-USERNS": P, "HARDEN-CPU-VULNS": F, "KCONFIG-STACKPROTECTOR": I, "HARDEN-SYSRQ": P,
			"LSM-ACTIVE": P, "LSM-SELINUX": P, "LSM-APPARMOR": N, "LSM-LANDLOCK": P,
			"TRUST-TPM": P, "TRUST-EVENTLOG": P, "TRUST-IMA": W, "TRUST-SECUREBOOT": P,
			"ACCOUNT-UID0": F, "ACCOUNT-EMPTY-PASSWORD": F, "IFACE-SERIAL-CONSOLE": W, "IFACE-GETTY": W, "LOG-FACILITY": P,
		}},
		{"apparmor", map[string]findings.Level{
			"KERNEL-BRANCH": P, "KERNEL-BUILD-AGE": F, "OS-UPDATES": P, "HARDEN-USERNS": P, "HARDEN-PTRACE-SCOPE": P, "HARDEN-MITIGATIONS": F, "HARDEN-TIOCSTI": W,
			"HARDEN-CPU-FEATURES": W, "HARDEN-CPU-VULNS": I, "LSM-ACTIVE": P, "LSM-APPARMOR": P, "LSM-SELINUX": N,
			"TRUST-TPM": W, "TRUST-SECUREBOOT": W, "ACCOUNT-ADMIN-GROUPS": W, "ACCOUNT-EMPTY-PASSWORD": N,
			"IFACE-SERIAL-CONSOLE": W, "IFACE-GETTY": W, "IFACE-LISTEN": P, "LOG-FACILITY": W,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got := runFixture(t, tt.host, Options{})
			for id, want := range tt.want {
				f, ok := got[id]
				if !ok {
					t.Errorf("%s: no finding", id)
					continue
				}
				if f.Level != want {
					t.Errorf("%s = %s, want %s (seen: %s)", id, f.Level, want, f.Seen)
				}
			}
			for _, f := range got {
				if f.Level == findings.Error {
					t.Errorf("%s: error on a well-formed fixture: %s", f.ID, f.Seen)
				}
				assertComplete(t, f)
			}
		})
	}
}

// assertComplete checks the promise of every finding: requirement,
// evidence, where it came from, and a fix when something is wrong.
func assertComplete(t *testing.T, f findings.Finding) {
	t.Helper()
	if len(f.Requirements) == 0 || f.Seen == "" || f.Where == "" || f.Title == "" || f.Section == "" {
		t.Errorf("%s: incomplete finding %+v", f.ID, f)
	}
	if (f.Level == findings.Fail || f.Level == findings.Warn || f.Level == findings.Error) && f.Fix == "" {
		t.Errorf("%s: %s without a fix", f.ID, f.Level)
	}
}

// The fixtures keep the facts a live host has in files that git stores.
func TestFixtureRootNotFound(t *testing.T) {
	if _, err := Run(Options{Root: "testdata/hosts/no-such-host"}); err == nil {
		t.Fatal("Run on a missing root succeeded")
	}
	if _, err := os.Stat("testdata/hosts/hardened/proc/sys/kernel/osrelease"); err != nil {
		t.Fatal(err)
	}
}
