package spec

import (
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// HostLSM says which label-based LSMs the host runs; the paths are read from
// sysfs so they work without securityfs.
type HostLSM struct {
	AppArmor bool
	SELinux  bool
}

// DetectLSM reads the running host's AppArmor and SELinux state.
func DetectLSM() HostLSM {
	aa, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return HostLSM{AppArmor: strings.TrimSpace(string(aa)) == "Y", SELinux: err == nil}
}

// CheckLSMLabels refuses labels the host cannot apply: running the container
// unconfined instead would silently drop the protection asked for (R-LSM-b).
func CheckLSMLabels(p *specs.Process, host HostLSM) error {
	if p == nil {
		return nil
	}
	if p.ApparmorProfile != "" && !host.AppArmor {
		return fieldErr("process.apparmorProfile", "%q asked for, but AppArmor is not enabled on this host (R-LSM-b)", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !host.SELinux {
		return fieldErr("process.selinuxLabel", "%q asked for, but SELinux is not enabled on this host (R-LSM-b)", p.SelinuxLabel)
	}
	return nil
}

// CheckMountLabel refuses linux.mountLabel on a host without SELinux, the
// only LSM that labels mounts: ignoring it would leave the container's
// filesystems unlabelled without a word (R-LSM-b).
func CheckMountLabel(l *specs.Linux, host HostLSM) error {
	if l != nil && l.MountLabel != "" && !host.SELinux {
		return fieldErr("linux.mountLabel", "%q asked for, but SELinux is not enabled on this host (R-LSM-b)", l.MountLabel)
	}
	return nil
}
