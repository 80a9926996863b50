package bundlecheck

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-a, R-LSM-g, R-TRUST-5: the container process gets no
// privilege that reaches the kernel or its security modules.
func init() {
	lazy(func() {
		register(
			check{rule("BUNDLE-CAPS", "privileges", "no privileged capabilities are granted",
				"CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE and the like let a container reach the kernel, load code or change LSM state.",
				"drop the listed capabilities from process.capabilities (every set); keep Docker's default set or less", "R-LSM-a", "R-LSM-g", "R-TRUST-5"), checkCaps},
			check{rule("BUNDLE-NO-NEW-PRIVS", "privileges", "no_new_privs is set",
				"Without no_new_privs a setuid binary in the image regains privileges and seccomp needs CAP_SYS_ADMIN to install.",
				`set "process": {"noNewPrivileges": true}`, "R-LSM-a", "R-LSM-d"), checkNNP},
			check{rule("BUNDLE-USER-ROOT", "privileges", "the process does not run as host root",
				"UID 0 in a container without a user namespace is UID 0 on the host: any escape is a full compromise.",
				"set process.user.uid to a non-zero UID, or map root through a user namespace (linux.uidMappings)", "R-LSM-f", "R-LSM-a"), checkUserRoot},
		)
	})
}

// critical capabilities reach the kernel or the LSMs directly.
var criticalCaps = map[string]string{
	"CAP_SYS_ADMIN": "mount, namespaces, most admin calls", "CAP_SYS_MODULE": "loads kernel modules",
	"CAP_SYS_RAWIO": "raw I/O ports and memory", "CAP_SYS_PTRACE": "traces any process, bypassing seccomp (R-LSM-e)",
	"CAP_DAC_READ_SEARCH": "open_by_handle_at escape (shocker)", "CAP_MAC_ADMIN": "changes LSM policy",
	"CAP_MAC_OVERRIDE": "overrides LSM policy", "CAP_BPF": "loads BPF programs", "CAP_SYS_BOOT": "reboots, kexec",
	"CAP_SYSLOG": "reads kernel log and addresses", "CAP_PERFMON": "perf side channels", "CAP_AUDIT_CONTROL": "turns off audit",
}

// dockerDefault is Docker's default capability set, the usual baseline.
var dockerDefault = map[string]bool{
	"CAP_CHOWN": true, "CAP_DAC_OVERRIDE": true, "CAP_FSETID": true, "CAP_FOWNER": true, "CAP_MKNOD": true,
	"CAP_NET_RAW": true, "CAP_SETGID": true, "CAP_SETUID": true, "CAP_SETFCAP": true, "CAP_SETPCAP": true,
	"CAP_NET_BIND_SERVICE": true, "CAP_SYS_CHROOT": true, "CAP_KILL": true, "CAP_AUDIT_WRITE": true,
}

func allCaps(c *specs.LinuxCapabilities) []string {
	set := map[string]bool{}
	for _, l := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
		for _, n := range l {
			set[strings.ToUpper(n)] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func checkCaps(s *subject) result {
	p := s.spec.Process
	if p == nil {
		return result{level: findings.NotApplicable, seen: "no process (config for create only?)", field: "process"}
	}
	if p.Capabilities == nil {
		return result{level: findings.Pass, seen: "no capabilities granted", field: "process.capabilities"}
	}
	var crit, extra []string
	for _, c := range allCaps(p.Capabilities) {
		switch {
		case criticalCaps[c] != "":
			crit = append(crit, c+" ("+criticalCaps[c]+")")
		case !dockerDefault[c]:
			extra = append(extra, c)
		}
	}
	switch {
	case len(crit) > 0:
		return result{level: findings.Fail, seen: "privileged: " + strings.Join(crit, ", "), field: "process.capabilities"}
	case len(extra) > 0:
		return result{level: findings.Warn, seen: "beyond the default set: " + strings.Join(extra, ", "), field: "process.capabilities"}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d capabilities, all within the default set", len(allCaps(p.Capabilities))), field: "process.capabilities"}
}

func checkNNP(s *subject) result {
	p := s.spec.Process
	switch {
	case p == nil:
		return result{level: findings.NotApplicable, seen: "no process", field: "process"}
	case p.NoNewPrivileges:
		return result{level: findings.Pass, seen: "noNewPrivileges: true", field: "process.noNewPrivileges"}
	}
	return result{level: findings.Fail, seen: "noNewPrivileges is false or absent", field: "process.noNewPrivileges"}
}

// hostRootMapped reports whether container UID 0 maps to host UID 0.
func hostUID(s *specs.Spec, uid uint32) (host uint32, userns bool) {
	if s.Linux == nil || !hasNS(s.Linux, specs.UserNamespace) {
		return uid, false
	}
	for _, m := range s.Linux.UIDMappings {
		if uid >= m.ContainerID && uid-m.ContainerID < m.Size {
			return m.HostID + (uid - m.ContainerID), true
		}
	}
	return 65534, true // unmapped: the overflow UID
}

func checkUserRoot(s *subject) result {
	p := s.spec.Process
	if p == nil {
		return result{level: findings.NotApplicable, seen: "no process", field: "process"}
	}
	uid := p.User.UID
	host, userns := hostUID(s.spec, uid)
	switch {
	case host == 0 && userns:
		return result{level: findings.Fail, seen: fmt.Sprintf("uid %d is mapped to host uid 0 by the user namespace", uid), field: "linux.uidMappings"}
	case host == 0:
		return result{level: findings.Warn, seen: "uid 0 with no user namespace: root in the container is root on the host", field: "process.user.uid"}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("uid %d runs as host uid %d", uid, host), field: "process.user.uid"}
}
