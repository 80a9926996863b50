package policy

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/spec"
)

// Action is what the baseline did about one field.
type Action string

// The baseline's decisions.
const (
	Enforced Action = "enforced" // the config was hardened
	Refused  Action = "refused"  // the config asks for something forbidden
	Warned   Action = "warning"  // allowed, but weaker than the secure default
)

// Decision is one baseline finding.
type Decision struct {
	Action      Action `json:"action"`
	Field       string `json:"field"`
	Requirement string `json:"requirement"`
	Message     string `json:"message"`
}

func (d Decision) String() string {
	return fmt.Sprintf("%s: %s (%s)", d.Field, d.Message, d.Requirement)
}

// Baseline is the policy every container gets, whatever config arrives.
type Baseline struct {
	// ForbiddenCaps can never be granted: each reaches the host kernel or its LSMs.
	ForbiddenCaps map[string]string
	// MaskedPaths are always masked; ReadonlyPaths always read-only.
	MaskedPaths, ReadonlyPaths []string
	// SensitiveSources may never be bind-mounted writable into a container.
	SensitiveSources []string
	// ForbiddenDevices may never be created in a container.
	ForbiddenDevices []string
}

// Default returns the documented baseline (docs/policy.md).
func Default() *Baseline {
	return &Baseline{
		ForbiddenCaps: map[string]string{
			"CAP_SYS_MODULE": "R-TRUST-5", "CAP_SYS_RAWIO": "R-TRUST-5", "CAP_SYS_BOOT": "R-TRUST-5",
			"CAP_SYS_TIME": "R-TRUST-5", "CAP_SYSLOG": "R-HOST-3", "CAP_BPF": "R-TRUST-5",
			"CAP_PERFMON": "R-HOST-3", "CAP_MAC_ADMIN": "R-LSM-a", "CAP_MAC_OVERRIDE": "R-LSM-a",
			"CAP_SYS_PTRACE": "R-LSM-e", "CAP_SYS_ADMIN": "R-LSM-g", "CAP_AUDIT_CONTROL": "R-OPS-2",
		},
		MaskedPaths: []string{"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
			"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
			"/sys/firmware", "/sys/devices/virtual/powercap", "/sys/kernel/security", "/sys/kernel/debug"},
		ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		SensitiveSources: []string{"/", "/proc", "/sys", "/sys/fs/cgroup", "/dev", "/boot", "/etc",
			"/lib/modules", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd", "/var/run",
			"/run/trustbox", "/sys/kernel/security"},
		ForbiddenDevices: []string{"/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/vtpmx"},
	}
}

// Apply hardens s in place and returns every decision; refusals mean the
// container must not be created.
func (b *Baseline) Apply(s *specs.Spec) []Decision {
	var ds []Decision
	for _, step := range []func(*specs.Spec) []Decision{
		b.noNewPrivs, b.capabilities, b.maskedPaths, b.readonlyKernelFS, b.bindSources,
		b.devices, b.userNamespace,
	} {
		ds = append(ds, step(s)...)
	}
	return ds
}

// Refusals returns only the refused decisions.
func Refusals(ds []Decision) []Decision {
	var out []Decision
	for _, d := range ds {
		if d.Action == Refused {
			out = append(out, d)
		}
	}
	return out
}

func (b *Baseline) noNewPrivs(s *specs.Spec) []Decision {
	if s.Process == nil || s.Process.NoNewPrivileges {
		return nil
	}
	s.Process.NoNewPrivileges = true
	return []Decision{{Enforced, "process.noNewPrivileges", "R-LSM-d", "set to true: setuid binaries and file capabilities cannot raise privileges"}}
}

// capabilities refuses forbidden capabilities with one decision naming each
// capability once, its requirement, and the sets it appears in.
func (b *Baseline) capabilities(s *specs.Spec) []Decision {
	if s.Process == nil || s.Process.Capabilities == nil {
		return nil
	}
	var names, sets []string
	seen := map[string]bool{}
	for _, set := range spec.CapSets(s.Process.Capabilities) {
		hit := false
		for _, name := range set.List {
			if _, bad := b.ForbiddenCaps[name]; bad {
				hit = true
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
		if hit {
			sets = append(sets, set.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " (" + b.ForbiddenCaps[n] + ")"
	}
	msg := strings.Join(parts, ", ") + " forbidden by the trustbox baseline"
	if len(sets) > 1 {
		msg += " (also in " + strings.Join(sets[1:], ", ") + ")"
	}
	return []Decision{{Refused, "process.capabilities." + sets[0], b.ForbiddenCaps[names[0]], msg}}
}

func (b *Baseline) maskedPaths(s *specs.Spec) []Decision {
	if s.Linux == nil {
		return nil
	}
	var added []string
	for _, p := range b.MaskedPaths {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, p)
			added = append(added, p)
		}
	}
	var ro []string
	for _, p := range b.ReadonlyPaths {
		if !slices.Contains(s.Linux.ReadonlyPaths, p) {
			s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, p)
			ro = append(ro, p)
		}
	}
	var ds []Decision
	if len(added) > 0 {
		ds = append(ds, Decision{Enforced, "linux.maskedPaths", "R-LSM-g", "added " + strings.Join(added, " ")})
	}
	if len(ro) > 0 {
		ds = append(ds, Decision{Enforced, "linux.readonlyPaths", "R-LSM-g", "added " + strings.Join(ro, " ")})
	}
	return ds
}

// readonlyKernelFS makes sysfs and cgroupfs mounts read-only (R-LSM-g).
func (b *Baseline) readonlyKernelFS(s *specs.Spec) []Decision {
	var ds []Decision
	for i := range s.Mounts {
		m := &s.Mounts[i]
		if m.Type != "sysfs" && m.Type != "cgroup" && m.Type != "cgroup2" {
			continue
		}
		if !slices.Contains(m.Options, "ro") || slices.Contains(m.Options, "rw") {
			m.Options = slices.DeleteFunc(m.Options, func(o string) bool { return o == "rw" })
			m.Options = append(m.Options, "ro")
			ds = append(ds, Decision{Enforced, fmt.Sprintf("mounts[%d].options", i), "R-LSM-g",
				m.Type + " at " + m.Destination + " made read-only"})
		}
	}
	return ds
}

func (b *Baseline) bindSources(s *specs.Spec) []Decision {
	var ds []Decision
	for i, m := range s.Mounts {
		if m.Type != "bind" && m.Type != "rbind" && !slices.Contains(m.Options, "bind") && !slices.Contains(m.Options, "rbind") {
			continue
		}
		src := filepath.Clean(m.Source)
		if !slices.Contains(b.SensitiveSources, src) || slices.Contains(m.Options, "ro") || slices.Contains(m.Options, "rro") {
			continue
		}
		ds = append(ds, Decision{Refused, fmt.Sprintf("mounts[%d].source", i), "R-LSM-g",
			"host path " + src + " may only be bind-mounted read-only"})
	}
	return ds
}

func (b *Baseline) devices(s *specs.Spec) []Decision {
	if s.Linux == nil {
		return nil
	}
	var ds []Decision
	for i, d := range s.Linux.Devices {
		if slices.Contains(b.ForbiddenDevices, filepath.Clean(d.Path)) || forbiddenNode(d) {
			ds = append(ds, Decision{Refused, fmt.Sprintf("linux.devices[%d]", i), "R-TRUST-5", d.Path + " gives access to the host kernel"})
		}
	}
	if r := s.Linux.Resources; r != nil {
		for i, d := range r.Devices {
			if d.Allow && (d.Type == "" || d.Type == "a") && d.Major == nil && d.Minor == nil {
				ds = append(ds, Decision{Refused, fmt.Sprintf("linux.resources.devices[%d]", i), "R-TRUST-5",
					"allowing every device gives the container raw host hardware"})
			} else if d.Allow && strings.ContainsAny(d.Access, "rw") && coversForbiddenNode(d) {
				ds = append(ds, Decision{Refused, fmt.Sprintf("linux.resources.devices[%d]", i), "R-TRUST-5",
					"the rule lets the container read or write /dev/mem, kmem, port or kmsg (character devices 1:1, 1:2, 1:4, 1:11), whatever their path"})
			}
		}
	}
	return ds
}

// forbiddenNode: the character devices behind /dev/mem, /dev/kmem,
// /dev/port and /dev/kmsg, by number, so another path (/dev/char/1:1, a
// node of any name) does not get them in.
func forbiddenNode(d specs.LinuxDevice) bool {
	if d.Type != "c" && d.Type != "u" {
		return false
	}
	return d.Major == 1 && (d.Minor == 1 || d.Minor == 2 || d.Minor == 4 || d.Minor == 11)
}

// coversForbiddenNode: a device rule whose type, major and minor (absent
// or -1 meaning any) include one of forbiddenNode's; "m" alone (mknod, as
// engines allow for c *:*) is not such a rule, reading or writing is.
func coversForbiddenNode(d specs.LinuxDeviceCgroup) bool {
	if d.Type != "" && d.Type != "a" && d.Type != "c" {
		return false
	}
	if d.Major != nil && *d.Major != -1 && *d.Major != 1 {
		return false
	}
	if d.Minor == nil || *d.Minor == -1 {
		return true
	}
	switch *d.Minor {
	case 1, 2, 4, 11:
		return true
	}
	return false
}

func (b *Baseline) userNamespace(s *specs.Spec) []Decision {
	if s.Linux == nil {
		return nil
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			return nil
		}
	}
	return []Decision{{Warned, "linux.namespaces", "R-LSM-f", "no user namespace: root in the container is root on the host"}}
}
