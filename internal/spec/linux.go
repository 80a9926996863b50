package spec

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var nsTypes = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace: true, specs.NetworkNamespace: true, specs.MountNamespace: true,
	specs.IPCNamespace: true, specs.UTSNamespace: true, specs.UserNamespace: true,
	specs.CgroupNamespace: true, specs.TimeNamespace: true,
}

// HasNamespace reports whether the config lists namespace t (new or joined).
func HasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	if s.Linux == nil {
		return false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

func checkNamespaces(s *specs.Spec, _ string) error {
	if s.Linux == nil {
		return fieldErr("linux", "missing: trustbox runs Linux containers only")
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range s.Linux.Namespaces {
		f := fmt.Sprintf("linux.namespaces[%d]", i)
		if !nsTypes[ns.Type] {
			return fieldErr(f+".type", "unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return fieldErr(f+".type", "namespace %q listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return fieldErr(f+".path", "%q must be absolute", ns.Path)
		}
	}
	if !seen[specs.MountNamespace] {
		return fieldErr("linux.namespaces", "a mount namespace is required (the rootfs is pivoted inside it)")
	}
	if len(s.Linux.TimeOffsets) > 0 && !seen[specs.TimeNamespace] {
		return fieldErr("linux.timeOffsets", "set without a time namespace")
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.TimeNamespace && ns.Path != "" && len(s.Linux.TimeOffsets) > 0 {
			return fieldErr("linux.timeOffsets", "set for a joined time namespace (%s): offsets belong to a new one", ns.Path)
		}
	}
	for clock, o := range s.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fieldErr("linux.timeOffsets", "clock %q: a time namespace offsets only monotonic and boottime", clock)
		}
		if o.Nanosecs >= 1e9 {
			return fieldErr("linux.timeOffsets."+clock+".nanosecs", "%d is not below one second", o.Nanosecs)
		}
	}
	return nil
}

// checkJoinedMount: a container joining another's mount namespace by path
// shares that filesystem view as it is. Changing it would change the other
// container (runc mounts and pivots inside it), so nothing that would is
// accepted; the runtime checks the rest against the namespace's owner.
func checkJoinedMount(s *specs.Spec, _ string) error {
	var path string
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			path = ns.Path
		}
	}
	if path == "" {
		return nil
	}
	why := "the container joins the mount namespace at " + path + ", which it shares unchanged: remove it"
	switch {
	case len(s.Mounts) > 0:
		return fieldErr("mounts", "%d mount(s) requested, but %s", len(s.Mounts), why)
	case len(s.Linux.Devices) > 0:
		return fieldErr("linux.devices", "%d device(s) requested, but %s", len(s.Linux.Devices), why)
	case len(s.Linux.Sysctl) > 0:
		return fieldErr("linux.sysctl", "set, but %s", why)
	case s.Linux.RootfsPropagation != "":
		return fieldErr("linux.rootfsPropagation", "%q requested, but %s", s.Linux.RootfsPropagation, why)
	}
	return nil
}

func checkIDMappings(s *specs.Spec, _ string) error {
	userns := HasNamespace(s, specs.UserNamespace)
	for _, m := range []struct {
		name string
		maps []specs.LinuxIDMapping
	}{{"linux.uidMappings", s.Linux.UIDMappings}, {"linux.gidMappings", s.Linux.GIDMappings}} {
		if len(m.maps) > 0 && !userns {
			return fieldErr(m.name, "set without a user namespace")
		}
		if userns && len(m.maps) == 0 && !joinsNamespace(s, specs.UserNamespace) {
			return fieldErr(m.name, "a new user namespace needs a mapping")
		}
		if len(m.maps) > 340 {
			return fieldErr(m.name, "%d ranges: the kernel accepts at most 340", len(m.maps))
		}
		if err := checkRanges(m.name, m.maps); err != nil {
			return err
		}
	}
	return nil
}

func joinsNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t && ns.Path != "" {
			return true
		}
	}
	return false
}

func checkRanges(name string, maps []specs.LinuxIDMapping) error {
	type rng struct{ lo, hi uint64 }
	var in, out []rng
	for i, m := range maps {
		if m.Size == 0 {
			return fieldErr(fmt.Sprintf("%s[%d].size", name, i), "must be at least 1")
		}
		if uint64(m.ContainerID)+uint64(m.Size) > 1<<32-1 || uint64(m.HostID)+uint64(m.Size) > 1<<32-1 {
			return fieldErr(fmt.Sprintf("%s[%d]", name, i), "range overflows 32-bit IDs")
		}
		in = append(in, rng{uint64(m.ContainerID), uint64(m.ContainerID) + uint64(m.Size)})
		out = append(out, rng{uint64(m.HostID), uint64(m.HostID) + uint64(m.Size)})
	}
	for _, set := range [][]rng{in, out} {
		sort.Slice(set, func(a, b int) bool { return set[a].lo < set[b].lo })
		for i := 1; i < len(set); i++ {
			if set[i].lo < set[i-1].hi {
				return fieldErr(name, "ranges overlap")
			}
		}
	}
	return nil
}

// namespacedSysctl says which namespace makes a sysctl safe to set (runc's rule).
func namespacedSysctl(key string) (specs.LinuxNamespaceType, bool) {
	switch key {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
		"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return specs.IPCNamespace, true
	case "kernel.hostname", "kernel.domainname":
		return specs.UTSNamespace, true
	}
	switch {
	case strings.HasPrefix(key, "fs.mqueue."):
		return specs.IPCNamespace, true
	case strings.HasPrefix(key, "net."):
		return specs.NetworkNamespace, true
	}
	return "", false
}

func checkSysctl(s *specs.Spec, _ string) error {
	for k := range s.Linux.Sysctl {
		f := "linux.sysctl." + k
		if strings.ContainsAny(k, "/\x00") || strings.Contains(k, "..") || k == "" {
			return fieldErr(f, "not a sysctl name")
		}
		ns, ok := namespacedSysctl(k)
		if !ok {
			return fieldErr(f, "not a namespaced sysctl: it would change the host kernel (R-TRUST-5)")
		}
		if !HasNamespace(s, ns) {
			return fieldErr(f, "needs its own %s namespace (R-TRUST-5)", ns)
		}
	}
	return nil
}

// defaultDevices are the nodes every container gets (the OCI default set).
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}, {Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7}, {Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9}, {Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// Devices lists the device nodes a container gets: linux.devices, then each
// OCI default node the config does not name itself.
func Devices(s *specs.Spec) []specs.LinuxDevice {
	var devs []specs.LinuxDevice
	have := map[string]bool{}
	if s.Linux != nil {
		devs = append(devs, s.Linux.Devices...)
		for _, d := range devs {
			have[path.Clean(d.Path)] = true
		}
	}
	for _, d := range defaultDevices {
		if !have[d.Path] {
			devs = append(devs, d)
		}
	}
	return devs
}
