package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ValidateResources checks resources given on their own (`update -r`) as
// config.json's linux.resources is checked; errors name the field.
func ValidateResources(r *specs.LinuxResources) error {
	s := &specs.Spec{Linux: &specs.Linux{Resources: r}}
	return errors.Join(checkResources(s, ""), checkUnsupported(s, ""))
}

func checkResources(s *specs.Spec, _ string) error {
	r := s.Linux.Resources
	if r == nil {
		return nil
	}
	if m := r.Memory; m != nil {
		for name, v := range map[string]*int64{"limit": m.Limit, "reservation": m.Reservation, "swap": m.Swap} {
			if v != nil && *v != -1 && *v < 4096*10 {
				return fieldErr("linux.resources.memory."+name, "%d bytes is below the 40 KiB minimum (-1 means unlimited)", *v)
			}
		}
		if m.Limit != nil && m.Swap != nil && *m.Swap != -1 && *m.Limit != -1 && *m.Swap < *m.Limit {
			return fieldErr("linux.resources.memory.swap", "memory+swap (%d) is below the memory limit (%d)", *m.Swap, *m.Limit)
		}
		if m.Swappiness != nil && *m.Swappiness > 100 {
			return fieldErr("linux.resources.memory.swappiness", "%d is above 100", *m.Swappiness)
		}
	}
	if c := r.CPU; c != nil {
		if c.Period != nil && *c.Period != 0 && (*c.Period < 1000 || *c.Period > 1000000) {
			return fieldErr("linux.resources.cpu.period", "%d µs is outside 1000..1000000", *c.Period)
		}
		if c.Quota != nil && *c.Quota != -1 && *c.Quota != 0 && *c.Quota < 1000 {
			return fieldErr("linux.resources.cpu.quota", "%d µs is below 1000 (-1 means unlimited)", *c.Quota)
		}
		if c.Shares != nil && *c.Shares != 0 && (*c.Shares < 2 || *c.Shares > 262144) {
			return fieldErr("linux.resources.cpu.shares", "%d is outside 2..262144", *c.Shares)
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil && *p.Limit < -1 {
		return fieldErr("linux.resources.pids.limit", "%d is negative (-1 or 0 means unlimited)", *p.Limit)
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 && (*b.Weight < 10 || *b.Weight > 1000) {
		return fieldErr("linux.resources.blockIO.weight", "%d is outside 10..1000", *b.Weight)
	}
	for key, val := range r.Unified {
		if err := checkUnifiedKey(key, val); err != nil {
			return err
		}
	}
	for i, d := range r.Devices {
		f := fmt.Sprintf("linux.resources.devices[%d]", i)
		switch d.Type {
		case "", "a", "c", "b":
		default:
			return fieldErr(f+".type", "%q is not a, c or b", d.Type)
		}
		for _, ch := range d.Access {
			if ch != 'r' && ch != 'w' && ch != 'm' {
				return fieldErr(f+".access", "%q: only r, w and m", d.Access)
			}
		}
	}
	return nil
}

func checkDevices(s *specs.Spec, _ string) error {
	for i, d := range s.Linux.Devices {
		f := fmt.Sprintf("linux.devices[%d]", i)
		if !filepath.IsAbs(d.Path) || filepath.Clean(d.Path) == "/dev" {
			return fieldErr(f+".path", "%q must be an absolute path of a device under /dev", d.Path)
		}
		switch d.Type {
		case "c", "b", "u", "p":
		default:
			return fieldErr(f+".type", "%q is not c, b, u or p", d.Type)
		}
	}
	return nil
}

// checkUnifiedKey accepts a cgroup v2 interface file of a controller
// ("memory.high", "io.latency") and a one-line value. The cgroup.* core
// files are refused: they move processes (procs, threads), change the tree
// (subtree_control, type) or kill and freeze it, which is the runtime's to
// do (R-ISO-3); and a key must name a file in the container's own cgroup,
// never a path.
func checkUnifiedKey(key, val string) error {
	f := "linux.resources.unified." + key
	ctrl, file, ok := strings.Cut(key, ".")
	switch {
	case !ok || ctrl == "" || file == "" || strings.ContainsAny(key, "/\x00") || strings.Contains(key, ".."):
		return fieldErr(f, "%q is not a cgroup v2 interface file name (controller.file)", key)
	case ctrl == "cgroup":
		return fieldErr(f, "the cgroup core files are the runtime's to write (membership, the tree, freeze and kill)")
	case strings.ContainsAny(val, "\n\x00"):
		return fieldErr(f, "the value must be one line")
	}
	return nil
}
