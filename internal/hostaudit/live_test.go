package hostaudit

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/findings"
	"github.com/trustbox/trustbox/internal/testutil"
)

// The live host is audited read-only; every verdict is cross-checked with
// a fact read here independently, so the test holds on this VM (Landlock,
// lockdown and BPF LSMs, no TPM, no securityfs) and on a host that has them.
func TestLiveHost(t *testing.T) {
	testutil.RequiresRoot(t) // /etc/shadow and some /proc files are root-only
	rep, err := Run(Options{Root: "/"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]findings.Finding{}
	for _, f := range rep.Findings {
		got[f.ID] = f
		assertComplete(t, f)
		if f.Level == findings.Error {
			t.Errorf("%s: error on the live host: %s", f.ID, f.Seen)
		}
	}
	if len(got) != len(registry) {
		t.Errorf("%d findings for %d checks", len(got), len(registry))
	}

	// Landlock: the check agrees with the kernel.
	_, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if want := errno == 0; (got["LSM-LANDLOCK"].Level == findings.Pass) != want {
		t.Errorf("LSM-LANDLOCK = %s (%s), but landlock_create_ruleset errno = %v", got["LSM-LANDLOCK"].Level, got["LSM-LANDLOCK"].Seen, errno)
	}

	// TPM: pass exactly when the host has a TPM device; no TPM is a warning.
	_, e1 := os.Stat("/dev/tpm0")
	_, e2 := os.Stat("/dev/tpmrm0")
	hasTPM := e1 == nil || e2 == nil
	if tpm := got["TRUST-TPM"]; hasTPM && tpm.Level != findings.Pass || !hasTPM && tpm.Level != findings.Warn {
		t.Errorf("TRUST-TPM = %s (%s) with TPM device present = %v", tpm.Level, tpm.Seen, hasTPM)
	}

	// securityfs: its verdict matches whether the lsm file is readable.
	_, err = os.Stat("/sys/kernel/security/lsm")
	if sec := got["LSM-SECURITYFS"]; (sec.Level == findings.Pass) != (err == nil) {
		t.Errorf("LSM-SECURITYFS = %s but stat lsm: %v", sec.Level, err)
	}

	// ASLR: the verdict follows the sysctl the kernel reports.
	v, err := os.ReadFile("/proc/sys/kernel/randomize_va_space")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]findings.Level{"2\n": findings.Pass, "1\n": findings.Warn, "0\n": findings.Fail}[string(v)]; got["HARDEN-ASLR"].Level != want {
		t.Errorf("HARDEN-ASLR = %s, randomize_va_space = %q", got["HARDEN-ASLR"].Level, v)
	}
}

// The live LSM probe answers even where securityfs is absent, and agrees
// with securityfs where it is mounted.
func TestLiveLSMProbe(t *testing.T) {
	list, err := liveProbe{}.LSMs()
	if errors.Is(err, unix.ENOSYS) {
		t.Skip("lsm_list_modules(2) needs Linux 6.8")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !contains(list, "capability") {
		t.Errorf("LSM list %v lacks capability, which is always first", list)
	}
	if data, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		if fromFS := ParseLSMList(string(data)); len(fromFS) != len(list) {
			t.Errorf("probe %v, securityfs %v", list, fromFS)
		}
	}
}
