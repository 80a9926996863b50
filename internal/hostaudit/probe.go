package hostaudit

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
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
	// PendingSecurityUpdates lists installed packages with a security
	// update, from the package manager's local data (no network).
	PendingSecurityUpdates() ([]string, error)
}

var errNotProbed = errors.New("not probed: the host root is a recorded fixture, not the live kernel")

type noProbe struct{}

func (noProbe) LSMs() ([]string, error)   { return nil, errNotProbed }
func (noProbe) LandlockABI() (int, error) { return 0, errNotProbed }
func (noProbe) PendingSecurityUpdates() ([]string, error) {
	return nil, errNotProbed
}

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

// PendingSecurityUpdates asks apt, offline and without locking or writing
// its cache, which installed packages the security archive updates.
func (liveProbe) PendingSecurityUpdates() ([]string, error) {
	path, err := exec.LookPath("apt-get")
	if err != nil {
		return nil, fmt.Errorf("apt-get not found: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-s", "-o", "Debug::NoLocking=true", "-o", "Dir::Cache::pkgcache=",
		"-o", "Dir::Cache::srcpkgcache=", "upgrade").Output()
	if err != nil {
		return nil, fmt.Errorf("apt-get -s upgrade: %w", err)
	}
	return ParseAptSimulation(string(out)), nil
}

// ParseAptSimulation returns "pkg old -> new" for each security upgrade
// listed by apt-get -s ("Inst pkg [old] (new Suite-Security:... [arch])").
func ParseAptSimulation(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[0] != "Inst" || !strings.Contains(strings.ToLower(line), "security") {
			continue
		}
		old := strings.Trim(f[2], "[]")
		out = append(out, f[1]+" "+old+" -> "+strings.TrimPrefix(f[3], "("))
	}
	return out
}
