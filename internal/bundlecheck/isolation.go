package bundlecheck

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-f and R-LSM-g: the container gets its own namespaces,
// including a user namespace, so it forms its own security domain.
func init() {
	lazy(func() {
		register(
			check{rule("BUNDLE-NAMESPACES", "isolation", "no host namespace is shared",
				"A container sharing the host's mount, PID, network, IPC or UTS namespace sees and can act on host resources.",
				"list pid, mount, network, ipc, uts and cgroup in linux.namespaces without a path to a host namespace", "R-LSM-f", "R-LSM-g"), checkNamespaces},
			check{rule("BUNDLE-USERNS", "isolation", "a user namespace maps the container's users away from host IDs",
				"A user namespace makes container root an unprivileged host user, the strongest line after an escape.",
				`add {"type": "user"} to linux.namespaces with uidMappings/gidMappings to an unused host range`, "R-LSM-f", "R-LSM-a"), checkUserns},
		)
	})
}

func hasNS(l *specs.Linux, t specs.LinuxNamespaceType) bool {
	for _, n := range l.Namespaces {
		if n.Type == t {
			return true
		}
	}
	return false
}

// hostNSPath reports whether a namespace path names the host's own
// namespace (/proc/1/ns/*, or the caller's /proc/self/ns/*).
func hostNSPath(p string) bool {
	return strings.HasPrefix(p, "/proc/1/ns/") || strings.HasPrefix(p, "/proc/self/ns/") || strings.HasPrefix(p, "/proc/thread-self/ns/")
}

func checkNamespaces(s *subject) result {
	if s.spec.Linux == nil {
		return result{level: findings.Fail, seen: "no linux section: every namespace is the host's", field: "linux"}
	}
	have := map[specs.LinuxNamespaceType]string{}
	for _, n := range s.spec.Linux.Namespaces {
		have[n.Type] = n.Path
	}
	var shared []string
	level := findings.Pass
	for _, want := range []struct {
		t     specs.LinuxNamespaceType
		level findings.Level
	}{{specs.MountNamespace, findings.Fail}, {specs.PIDNamespace, findings.Fail}, {specs.NetworkNamespace, findings.Warn},
		{specs.IPCNamespace, findings.Warn}, {specs.UTSNamespace, findings.Warn}, {specs.CgroupNamespace, findings.Warn}} {
		path, ok := have[want.t]
		switch {
		case !ok:
			shared = append(shared, string(want.t)+" (absent)")
		case hostNSPath(path):
			shared = append(shared, string(want.t)+" (joins "+path+")")
		default:
			continue
		}
		if want.level == findings.Fail || level == findings.Pass {
			level = want.level
		}
	}
	if len(shared) > 0 {
		return result{level: level, seen: "host namespaces shared: " + strings.Join(shared, ", "), field: "linux.namespaces"}
	}
	return result{level: findings.Pass, seen: "pid, mount, network, ipc, uts and cgroup namespaces are the container's own", field: "linux.namespaces"}
}

func checkUserns(s *subject) result {
	if s.spec.Linux == nil || !hasNS(s.spec.Linux, specs.UserNamespace) {
		return result{level: findings.Warn, seen: "no user namespace: container UIDs are host UIDs", field: "linux.namespaces"}
	}
	for _, n := range s.spec.Linux.Namespaces {
		if n.Type == specs.UserNamespace && hostNSPath(n.Path) {
			return result{level: findings.Fail, seen: "joins the host user namespace " + n.Path, field: "linux.namespaces"}
		}
	}
	if len(s.spec.Linux.UIDMappings) == 0 {
		return result{level: findings.Info, seen: "user namespace without uidMappings (joined by path or mapped by the engine)", field: "linux.uidMappings"}
	}
	return result{level: findings.Pass, seen: "user namespace with uid mappings", field: "linux.uidMappings"}
}
