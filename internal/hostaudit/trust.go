package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-TRUST-1: a chain of trust rooted in hardware, and whether the
// host's own measurements (TPM event log, IMA list) can be reported.
func init() {
	lazy(func() {
		register(
			check{hostRule("TRUST-TPM", "trust", "a hardware TPM is present",
				"The chain of trust and every container vTPM are rooted in the host TPM; without one trustbox uses a software root and says so (R-TRUST-6).",
				"enable the TPM in firmware (or give the VM a vTPM) and load the tpm_tis/tpm_crb driver", "R-TRUST-1", "R-TRUST-2"), checkTPM},
			check{hostRule("TRUST-EVENTLOG", "trust", "the TPM boot event log is readable",
				"The event log lets a verifier replay the boot measurements held in the PCRs.",
				"mount securityfs and boot with a firmware that hands the kernel its TPM event log", "R-TRUST-1"), checkEventLog},
			check{hostRule("TRUST-IMA", "trust", "the IMA runtime measurement list is readable and not empty",
				"IMA extends the chain of trust from the kernel to every file executed, including the runtime.",
				"boot with ima_policy=tcb (or a custom policy) on a kernel with CONFIG_IMA=y, and mount securityfs", "R-TRUST-1"), checkIMA},
			check{hostRule("TRUST-SECUREBOOT", "trust", "UEFI Secure Boot is enabled",
				"Secure Boot verifies the boot loader and kernel signatures, the first links of the chain.",
				"enable Secure Boot in the firmware and boot signed shim/kernel", "R-TRUST-1"), checkSecureBoot},
		)
	})
}

func checkTPM(s *source) result {
	const cls = "/sys/class/tpm"
	names, err := s.list(cls)
	if err != nil && !missing(err) {
		return failed(cls, err)
	}
	var devs []string
	for _, d := range []string{"/dev/tpm0", "/dev/tpmrm0"} {
		if s.exists(d) {
			devs = append(devs, d)
		}
	}
	if len(names) == 0 && len(devs) == 0 {
		return result{level: findings.Warn, seen: "no TPM: /sys/class/tpm and /dev/tpm* absent; the trust root is software only", where: cls}
	}
	seen := "TPM " + strings.Join(names, ",")
	if len(names) > 0 {
		if v, err := s.value(cls + "/" + names[0] + "/tpm_version_major"); err == nil {
			seen += " (TPM " + v + ".x)"
		}
	}
	if len(devs) == 0 {
		return result{level: findings.Warn, seen: seen + " but no /dev/tpm0 or /dev/tpmrm0 device node", where: cls}
	}
	return result{level: findings.Pass, seen: seen + ", devices " + strings.Join(devs, " "), where: cls}
}

func checkEventLog(s *source) result {
	const p = "/sys/kernel/security/tpm0/binary_bios_measurements"
	data, err := s.read(p)
	if err == nil {
		if len(data) == 0 {
			return result{level: findings.Warn, seen: "event log is empty", where: p}
		}
		return result{level: findings.Pass, seen: fmt.Sprintf("%d bytes of boot measurements", len(data)), where: p}
	}
	if !missing(err) {
		return failed(p, err)
	}
	if tpm := checkTPM(s); tpm.level != findings.Pass {
		return result{level: findings.NotApplicable, seen: "no TPM, so no TPM event log", where: p}
	}
	if ok, _ := s.securityfsMounted(); !ok {
		return result{level: findings.Warn, seen: "a TPM is present but securityfs is not mounted, so its event log is unreadable", where: p}
	}
	return result{level: findings.Warn, seen: "a TPM is present but the firmware passed no event log", where: p}
}

func checkIMA(s *source) result {
	const p = "/sys/kernel/security/ima/ascii_runtime_measurements"
	t, err := s.text(p)
	if err == nil {
		n := strings.Count(t, "\n")
		if n <= 1 {
			return result{level: findings.Warn, seen: fmt.Sprintf("%d measurement(s): only boot_aggregate, no IMA policy measuring files", n), where: p}
		}
		return result{level: findings.Pass, seen: fmt.Sprintf("%d measurements", n), where: p}
	}
	if !missing(err) {
		return failed(p, err)
	}
	if ok, _ := s.securityfsMounted(); !ok {
		return result{level: findings.Warn, seen: "IMA measurement list unreadable: securityfs is not mounted", where: p}
	}
	return result{level: findings.Warn, seen: "IMA is not enabled in this kernel (no ima directory)", where: p}
}

// secureBootVar is the EFI global variable holding the Secure Boot state.
const secureBootVar = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

// ParseSecureBoot decodes an efivarfs file: 4 bytes of attributes then the
// one-byte value.
func ParseSecureBoot(data []byte) (bool, error) {
	if len(data) != 5 {
		return false, fmt.Errorf("efivar is %d bytes, want 5 (4 attribute bytes + 1 value byte)", len(data))
	}
	switch data[4] {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, fmt.Errorf("efivar value %d is neither 0 nor 1", data[4])
}

func checkSecureBoot(s *source) result {
	if !s.exists("/sys/firmware/efi") {
		return result{level: findings.Warn, seen: "the host did not boot through UEFI (no /sys/firmware/efi), so Secure Boot cannot be in force", where: "/sys/firmware/efi"}
	}
	data, err := s.read(secureBootVar)
	if missing(err) {
		return result{level: findings.Warn, seen: "UEFI boot without a SecureBoot variable (efivarfs not mounted, or firmware without Secure Boot)", where: secureBootVar}
	}
	if err != nil {
		return failed(secureBootVar, err)
	}
	on, err := ParseSecureBoot(data)
	if err != nil {
		return failed(secureBootVar, err)
	}
	if !on {
		return result{level: findings.Warn, seen: "Secure Boot is disabled", where: secureBootVar}
	}
	return result{level: findings.Pass, seen: "Secure Boot is enabled", where: secureBootVar}
}
