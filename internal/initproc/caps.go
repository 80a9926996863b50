package initproc

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/spec"
)

// applyCaps sets all five capability sets; a nil config means no capabilities at all.
func applyCaps(c *specs.LinuxCapabilities) error {
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	keep := map[int]bool{}
	for _, n := range c.Bounding {
		v, _ := spec.CapNumber(n)
		keep[v] = true
	}
	for i := 0; i < 64; i++ {
		if keep[i] {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(i), 0, 0, 0); err != nil {
			if errors.Is(err, unix.EINVAL) {
				break // past the kernel's last capability
			}
			return fmt.Errorf("drop bounding capability %d: %w", i, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	set := func(list []string, field func(*unix.CapUserData) *uint32) {
		for _, n := range list {
			v, _ := spec.CapNumber(n)
			*field(&data[v/32]) |= 1 << (uint(v) % 32)
		}
	}
	set(c.Effective, func(d *unix.CapUserData) *uint32 { return &d.Effective })
	set(c.Permitted, func(d *unix.CapUserData) *uint32 { return &d.Permitted })
	set(c.Inheritable, func(d *unix.CapUserData) *uint32 { return &d.Inheritable })
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("process.capabilities: capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	for _, n := range c.Ambient {
		v, _ := spec.CapNumber(n)
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(v), 0, 0); err != nil {
			return fmt.Errorf("process.capabilities.ambient %s: %w (it must also be permitted and inheritable)", n, err)
		}
	}
	return nil
}
