package hostaudit

import (
	"fmt"
	"strings"
	"time"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-HOST-1: a container-specific, patched host OS and kernel.
func init() {
	lazy(func() {
		register(
			check{hostRule("KERNEL-BRANCH", "kernel", "the kernel branch is still maintained",
				"A kernel branch past its end of life gets no security fixes (R-HOST-1: keep the host patched).",
				"move to a maintained longterm kernel or the distribution's own kernel package", "R-HOST-1"), checkKernelBranch},
			check{hostRule("KERNEL-BUILD-AGE", "kernel", "the running kernel was built recently",
				"Kernel security fixes ship every few weeks; a kernel built long ago misses them even on a maintained branch.",
				"install the latest kernel update and reboot into it", "R-HOST-1"), checkKernelAge},
			check{hostRule("KERNEL-HOST-OS", "kernel", "the host runs a container-specific OS",
				"A minimal container OS (Flatcar, Bottlerocket, Talos, Fedora CoreOS, COS) carries fewer packages and services to attack.",
				"run containers on a container-specific OS, or strip the general distribution to what the host needs", "R-HOST-1"), checkHostOS},
		)
	})
}

func checkKernelBranch(s *source) result {
	const p = "/proc/sys/kernel/osrelease"
	rel, err := s.value(p)
	if err != nil {
		return failed(p, err)
	}
	branch, err := KernelRelease(rel)
	if err != nil {
		return failed(p, err)
	}
	seen := "kernel " + rel + " (branch " + branch + ")"
	distro := ""
	if osr, err := s.osRelease(); err == nil {
		b, ok := distroKernels[osr["ID"]+" "+osr["VERSION_ID"]]
		if !ok { // RHEL-like minor releases share the major release's kernel
			major, _, _ := strings.Cut(osr["VERSION_ID"], ".")
			b, ok = distroKernels[osr["ID"]+" "+major]
		}
		if ok {
			if b == branch {
				return result{level: findings.Pass, seen: seen + ": the branch " + osr["PRETTY_NAME"] + " maintains", where: p}
			}
			distro = fmt.Sprintf("; not the distribution's kernel (%s maintains %s)", osr["PRETTY_NAME"], b)
		}
	}
	eol, ok := longterm[branch]
	switch {
	case !ok:
		return result{level: findings.Warn, seen: seen + ": not a longterm branch, so fixes stop soon after the next release" + distro, where: p}
	case s.now.After(eol):
		return result{level: findings.Fail, seen: fmt.Sprintf("%s: longterm branch ended %s%s", seen, eol.Format("2006-01"), distro), where: p}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%s: longterm branch maintained until %s%s", seen, eol.Format("2006-01"), distro), where: p}
}

func checkKernelAge(s *source) result {
	const p = "/proc/version"
	v, err := s.value(p)
	if err != nil {
		if missing(err) {
			return result{level: findings.Info, seen: "no /proc/version", where: p}
		}
		return failed(p, err)
	}
	built, ok := KernelBuildDate(v)
	if !ok {
		return result{level: findings.Info, seen: "no build date in " + truncate(strings.TrimSpace(v), 120), where: p,
			fix: "use a kernel whose version string carries its build date (reproducible builds often blank it)"}
	}
	days := int(s.now.Sub(built) / (24 * time.Hour))
	seen := fmt.Sprintf("built %s, %d days ago", built.Format("2006-01-02"), days)
	switch {
	case days > 365:
		return result{level: findings.Fail, seen: seen, where: p}
	case days > 90:
		return result{level: findings.Warn, seen: seen, where: p}
	}
	return result{level: findings.Pass, seen: seen, where: p}
}

func (s *source) osRelease() (map[string]string, error) {
	t, err := s.text("/etc/os-release")
	if missing(err) {
		t, err = s.text("/usr/lib/os-release")
	}
	if err != nil {
		return nil, err
	}
	return ParseOSRelease(t)
}

func checkHostOS(s *source) result {
	const p = "/etc/os-release"
	osr, err := s.osRelease()
	if err != nil {
		if missing(err) {
			return result{level: findings.Warn, seen: "no /etc/os-release: the OS is unidentified", where: p}
		}
		return failed(p, err)
	}
	name := osr["PRETTY_NAME"]
	if name == "" {
		name = osr["ID"]
	}
	if containerOSes[osr["ID"]] || containerOSes[osr["VARIANT_ID"]] {
		return result{level: findings.Pass, seen: name + " is a container-specific OS", where: p}
	}
	return result{level: findings.Warn, seen: name + " is a general-purpose distribution", where: p}
}
