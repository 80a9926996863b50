package initproc

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// installSeccomp loads the runtime-compiled filter; it runs after
// no_new_privs, so it needs no CAP_SYS_ADMIN (R-LSM-d).
func installSeccomp(prog []config.SockFilter, flags uint) error {
	filters := make([]unix.SockFilter, len(prog))
	for i, f := range prog {
		filters[i] = unix.SockFilter{Code: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("install seccomp filter (%d instructions): %w", len(filters), errno)
	}
	return nil
}
