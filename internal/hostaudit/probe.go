package hostaudit

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Prober answers what only the running kernel can tell, for the live host.
type Prober interface {
	// LSMs lists the active LSMs (lsm_list_modules(2), Linux 6.8+), which
	// works even when securityfs is not mounted.
	LSMs() ([]string, error)
	// LandlockABI returns the Landlock ABI version, or an error if absent.
	LandlockABI() (int, error)
}

var errNotProbed = errors.New("not probed: the host root is a recorded fixture, not the live kernel")

type noProbe struct{}

func (noProbe) LSMs() ([]string, error)   { return nil, errNotProbed }
func (noProbe) LandlockABI() (int, error) { return 0, errNotProbed }

type liveProbe struct{}

// lsmNames maps the LSM IDs of include/uapi/linux/lsm.h to names.
var lsmNames = map[uint64]string{
	100: "capability", 101: "selinux", 102: "smack", 103: "tomoyo", 104: "apparmor",
	105: "yama", 106: "loadpin", 107: "safesetid", 108: "lockdown", 109: "bpf",
	110: "landlock", 111: "ima", 112: "evm", 113: "ipe",
}

// sysLSMListModules is lsm_list_modules(2): the same number on every arch.
const sysLSMListModules = 461

func (liveProbe) LSMs() ([]string, error) {
	ids := make([]uint64, 64)
	size := uint32(len(ids) * 8)
	n, _, errno := unix.Syscall(sysLSMListModules, uintptr(unsafe.Pointer(&ids[0])), uintptr(unsafe.Pointer(&size)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("lsm_list_modules: %w", errno)
	}
	var out []string
	for _, id := range ids[:n] {
		name, ok := lsmNames[id]
		if !ok {
			name = fmt.Sprintf("lsm-%d", id)
		}
		out = append(out, name)
	}
	return out, nil
}

func (liveProbe) LandlockABI() (int, error) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		return 0, fmt.Errorf("landlock_create_ruleset(VERSION): %w", errno)
	}
	return int(v), nil
}
