package bundlecheck

import (
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-g and R-LSM-a for what a config can do to the host
// outside the container: hooks run host programs as root, host-wide
// sysctls change the kernel for everyone, shared propagation leaks mounts.
func init() {
	lazy(func() {
		register(
			check{rule("BUNDLE-HOOKS", "host-reach", "the config runs no host programs through hooks",
				"OCI hooks run host binaries as root outside the container; a config from an untrusted source must not bring any.",
				"remove the hooks, or accept them only from configs your engine generates", "R-LSM-a", "R-LSM-h"), checkHooks},
			check{rule("BUNDLE-SYSCTL", "host-reach", "only namespaced sysctls are set",
				"A sysctl outside the container's namespaces changes the kernel for the whole host (R-LSM-g).",
				"drop the listed keys from linux.sysctl; only net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* and the UTS names are per-container", "R-LSM-g"), checkSysctl},
			check{rule("BUNDLE-PROPAGATION", "host-reach", "mounts do not propagate back to the host",
				"Shared propagation lets a mount made in the container appear on the host.",
				`set linux.rootfsPropagation to "private" or "slave" and drop shared/rshared from mount options`, "R-LSM-g"), checkPropagation},
		)
	})
}

func checkHooks(s *subject) result {
	h := s.spec.Hooks
	if h == nil {
		return result{level: findings.Pass, seen: "no hooks", field: "hooks"}
	}
	var runs []string
	for _, kind := range []struct {
		name  string
		hooks []specs.Hook
	}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop}} {
		for _, hk := range kind.hooks {
			runs = append(runs, kind.name+": "+hk.Path)
		}
	}
	if len(runs) == 0 {
		return result{level: findings.Pass, seen: "no hooks", field: "hooks"}
	}
	return result{level: findings.Warn, seen: "host programs run as root: " + strings.Join(runs, ", "), field: "hooks"}
}

// namespacedSysctl reports whether a sysctl key belongs to the container's
// own IPC, network or UTS namespace.
func namespacedSysctl(k string) bool {
	switch {
	case strings.HasPrefix(k, "net."), strings.HasPrefix(k, "fs.mqueue."), strings.HasPrefix(k, "kernel.shm"), strings.HasPrefix(k, "kernel.msg"):
		return true
	}
	return k == "kernel.sem" || k == "kernel.domainname" || k == "kernel.hostname"
}

func checkSysctl(s *subject) result {
	if s.spec.Linux == nil || len(s.spec.Linux.Sysctl) == 0 {
		return result{level: findings.Pass, seen: "no sysctls", field: "linux.sysctl"}
	}
	var bad []string
	for k, v := range s.spec.Linux.Sysctl {
		if !namespacedSysctl(k) {
			bad = append(bad, k+"="+v)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		return result{level: findings.Fail, seen: "host-wide: " + strings.Join(bad, ", "), field: "linux.sysctl"}
	}
	return result{level: findings.Pass, seen: "all sysctls are namespaced", field: "linux.sysctl"}
}

func checkPropagation(s *subject) result {
	var bad []string
	if s.spec.Linux != nil {
		if p := s.spec.Linux.RootfsPropagation; p == "shared" || p == "rshared" {
			bad = append(bad, "rootfsPropagation "+p)
		}
	}
	for _, m := range s.spec.Mounts {
		if hasOpt(m, "shared") || hasOpt(m, "rshared") {
			bad = append(bad, m.Destination)
		}
	}
	if len(bad) > 0 {
		return result{level: findings.Warn, seen: "shared propagation: " + strings.Join(bad, ", "), field: "mounts"}
	}
	return result{level: findings.Pass, seen: "no shared propagation", field: "linux.rootfsPropagation"}
}
