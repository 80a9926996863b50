package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-HOST-3: CPU features against memory corruption (SMEP, SMAP,
// NX) and the kernel's view of speculative-execution vulnerabilities.
func init() {
	lazy(func() {
		register(
			check{hostRule("HARDEN-CPU-FEATURES", "hardening", "the CPU enforces SMEP, SMAP and NX",
				"SMEP/SMAP stop the kernel from executing or touching user memory (ret2usr); NX makes data non-executable.",
				"enable the features in firmware or the hypervisor's CPU model, and do not boot with nosmep/nosmap/noexec=off", "R-HOST-3"), checkCPUFeatures},
			check{hostRule("HARDEN-CPU-VULNS", "hardening", "no CPU vulnerability is reported unmitigated",
				"An unmitigated speculative-execution flaw lets a container read host or neighbour memory.",
				"update CPU microcode and the kernel; do not disable mitigations", "R-HOST-3"), checkCPUVulns},
		)
	})
}

// ParseCPUFlags returns the flags of the first processor in /proc/cpuinfo
// and whether the file is the x86 kind (which has a "flags" line).
func ParseCPUFlags(s string) (flags map[string]bool, x86 bool) {
	flags = map[string]bool{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) != "flags" {
			continue
		}
		for _, f := range strings.Fields(v) {
			flags[f] = true
		}
		return flags, true
	}
	return flags, false
}

func checkCPUFeatures(s *source) result {
	const p = "/proc/cpuinfo"
	t, err := s.text(p)
	if err != nil {
		if missing(err) {
			return result{level: findings.Warn, seen: "no /proc/cpuinfo", where: p}
		}
		return failed(p, err)
	}
	flags, x86 := ParseCPUFlags(t)
	if !x86 {
		return result{level: findings.NotApplicable, seen: "not an x86 CPU (no flags line): SMEP/SMAP are x86 names; arm64 has PXN/PAN built in", where: p}
	}
	var have, lack []string
	for _, f := range []string{"smep", "smap", "nx"} {
		if flags[f] {
			have = append(have, f)
		} else {
			lack = append(lack, f)
		}
	}
	if len(lack) > 0 {
		return result{level: findings.Warn, seen: "missing: " + strings.Join(lack, ",") + "; present: " + strings.Join(have, ","), where: p}
	}
	extra := ""
	for _, f := range []string{"umip", "ibt", "user_shstk", "pti"} {
		if flags[f] {
			extra += "," + f
		}
	}
	return result{level: findings.Pass, seen: strings.Join(have, ",") + extra, where: p}
}

func checkCPUVulns(s *source) result {
	const dir = "/sys/devices/system/cpu/vulnerabilities"
	names, err := s.list(dir)
	if missing(err) {
		return result{level: findings.Info, seen: "the kernel does not publish CPU vulnerability status", where: dir}
	}
	if err != nil {
		return failed(dir, err)
	}
	var vuln, unknown []string
	for _, n := range names {
		v, err := s.value(dir + "/" + n)
		if err != nil {
			return failed(dir+"/"+n, err)
		}
		switch {
		case strings.HasPrefix(v, "Vulnerable"):
			vuln = append(vuln, n+" ("+truncate(v, 60)+")")
		case strings.HasPrefix(v, "Unknown"):
			unknown = append(unknown, n)
		}
	}
	switch {
	case len(vuln) > 0:
		return result{level: findings.Fail, seen: "vulnerable: " + strings.Join(vuln, "; "), where: dir}
	case len(unknown) > 0:
		return result{level: findings.Warn, seen: "status unknown: " + strings.Join(unknown, ", "), where: dir}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d entries, all mitigated or not affected", len(names)), where: dir}
}
