package bundlecheck

import (
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-g: the container cannot write the system directories
// enforcement depends on (procfs, sysfs, cgroups), nor reach host paths.
func init() {
	lazy(func() {
		register(
			check{rule("BUNDLE-MOUNT-SYSFS", "mounts", "sysfs is mounted read-only",
				"A writable /sys lets the container change kernel and device settings for the whole host.",
				`add "ro" to the options of the /sys mount`, "R-LSM-g"), func(s *subject) result { return checkRO(s, "/sys", "sysfs") }},
			check{rule("BUNDLE-MOUNT-CGROUP", "mounts", "the cgroup filesystem is mounted read-only",
				"A writable cgroup tree lets the container lift its own limits or use release_agent to run code on the host.",
				`add "ro" to the options of the /sys/fs/cgroup mount`, "R-LSM-g"), func(s *subject) result { return checkRO(s, "/sys/fs/cgroup", "cgroup") }},
			check{rule("BUNDLE-PROC-READONLY", "mounts", "the kernel's writable /proc files are read-only",
				"/proc/sys, /proc/sysrq-trigger and friends change host-wide kernel state.",
				"list /proc/bus, /proc/fs, /proc/irq, /proc/sys and /proc/sysrq-trigger in linux.readonlyPaths", "R-LSM-g"), checkProcRO},
			check{rule("BUNDLE-MASKED-PATHS", "mounts", "sensitive /proc and /sys files are masked",
				"/proc/kcore, /proc/keys, /sys/firmware and others leak host memory, keys and firmware state.",
				"list the missing paths in linux.maskedPaths (trustbox spec's default has them all)", "R-LSM-g", "R-HOST-3"), checkMasked},
			check{rule("BUNDLE-MOUNT-SENSITIVE", "mounts", "no sensitive host path is bind-mounted",
				"Binding /, /etc, /proc, /sys, /dev, /var/run or a daemon socket into a container hands it the host.",
				"remove the listed bind mounts; pass data through a dedicated volume directory instead", "R-LSM-g", "R-LSM-a"), checkSensitive},
		)
	})
}

func hasOpt(m specs.Mount, opt string) bool {
	for _, o := range m.Options {
		if o == opt {
			return true
		}
	}
	return false
}

func isBind(m specs.Mount) bool { return m.Type == "bind" || hasOpt(m, "bind") || hasOpt(m, "rbind") }

func checkRO(s *subject, dest, fstype string) result {
	var found bool
	for _, m := range s.spec.Mounts {
		d := path.Clean(m.Destination)
		if d != dest && !(fstype == "cgroup" && (m.Type == "cgroup" || m.Type == "cgroup2")) {
			continue
		}
		found = true
		if !hasOpt(m, "ro") {
			return result{level: findings.Fail, seen: d + " (" + m.Type + ") is mounted read-write", field: "mounts"}
		}
	}
	if !found {
		return result{level: findings.Pass, seen: dest + " is not mounted", field: "mounts"}
	}
	return result{level: findings.Pass, seen: dest + " is mounted read-only", field: "mounts"}
}

var procReadonly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

var maskedWanted = []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}

func missingPaths(have []string, want []string) []string {
	set := map[string]bool{}
	for _, h := range have {
		set[path.Clean(h)] = true
	}
	var out []string
	for _, w := range want {
		if !set[w] {
			out = append(out, w)
		}
	}
	return out
}

func hasProc(s *subject) bool {
	for _, m := range s.spec.Mounts {
		if path.Clean(m.Destination) == "/proc" {
			return true
		}
	}
	return false
}

func checkProcRO(s *subject) result {
	if !hasProc(s) {
		return result{level: findings.NotApplicable, seen: "no /proc mount", field: "mounts"}
	}
	for _, m := range s.spec.Mounts {
		if path.Clean(m.Destination) == "/proc" && isBind(m) {
			return result{level: findings.Fail, seen: "/proc is a bind mount of " + m.Source + ", not a new procfs", field: "mounts"}
		}
	}
	var have []string
	if s.spec.Linux != nil {
		have = s.spec.Linux.ReadonlyPaths
	}
	if miss := missingPaths(have, procReadonly); len(miss) > 0 {
		return result{level: findings.Fail, seen: "writable: " + strings.Join(miss, ", "), field: "linux.readonlyPaths"}
	}
	return result{level: findings.Pass, seen: strings.Join(procReadonly, ", ") + " are read-only", field: "linux.readonlyPaths"}
}

func checkMasked(s *subject) result {
	var have []string
	if s.spec.Linux != nil {
		have = s.spec.Linux.MaskedPaths
	}
	miss := missingPaths(have, maskedWanted)
	switch {
	case len(miss) == 0:
		return result{level: findings.Pass, seen: "all standard sensitive paths masked", field: "linux.maskedPaths"}
	case contains(miss, "/proc/kcore") || contains(miss, "/proc/keys"):
		return result{level: findings.Fail, seen: "not masked: " + strings.Join(miss, ", "), field: "linux.maskedPaths"}
	}
	return result{level: findings.Warn, seen: "not masked: " + strings.Join(miss, ", "), field: "linux.maskedPaths"}
}

// sensitiveSources are host paths a container must never get, with whether
// binding anything beneath them is as bad (sockets, runtime state).
var sensitiveSources = []string{"/", "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/var/run", "/run",
	"/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet", "/lib/modules", "/usr", "/home"}

// sensitivePrefixes are host trees where any bound file is sensitive. Engine
// state trees (/var/lib/kubelet/pods, /run/containerd/...) are left out:
// engines bind per-container files from them (hostname, resolv.conf, shm).
var sensitivePrefixes = []string{"/proc/", "/sys/", "/boot/", "/root/", "/dev/", "/etc/ssh/", "/etc/sudoers", "/etc/shadow",
	"/etc/gshadow", "/etc/kubernetes/", "/lib/modules/", "/run/trustbox/"}

var sensitiveSockets = []string{"docker.sock", "containerd.sock", "podman.sock", "crio.sock", "dockershim.sock", "trustbox.sock"}

func checkSensitive(s *subject) result {
	var bad []string
	for _, m := range s.spec.Mounts {
		if !isBind(m) || m.Source == "" {
			continue
		}
		src := path.Clean(m.Source)
		hit := contains(sensitiveSources, src)
		for _, p := range sensitivePrefixes {
			hit = hit || strings.HasPrefix(src, p) || src+"/" == p
		}
		for _, sock := range sensitiveSockets {
			hit = hit || path.Base(src) == sock
		}
		if hit {
			bad = append(bad, src+" -> "+m.Destination)
		}
	}
	if len(bad) > 0 {
		return result{level: findings.Fail, seen: "bind-mounted: " + strings.Join(bad, ", "), field: "mounts"}
	}
	return result{level: findings.Pass, seen: "no sensitive host path bind-mounted", field: "mounts"}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
