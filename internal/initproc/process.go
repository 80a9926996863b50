package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/spec"
)

// setProcessAttrs applies rlimits, personality and umask.
func setProcessAttrs(p *specs.Process, l *specs.Linux) error {
	for _, r := range p.Rlimits {
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(0, spec.Rlimits[r.Type], &lim, nil); err != nil {
			return fmt.Errorf("process.rlimits %s=%d:%d: %w (the kernel refuses to raise this limit here: lower it in the config, e.g. podman --ulimit)", r.Type, r.Soft, r.Hard, err)
		}
	}
	if l != nil && l.Personality != nil {
		pers := uintptr(0) // PER_LINUX
		if l.Personality.Domain == specs.PerLinux32 {
			pers = 0x0008
		}
		if _, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, pers, 0, 0); errno != 0 {
			return fmt.Errorf("linux.personality: %w", errno)
		}
	}
	if p.User.Umask != nil {
		unix.Umask(int(*p.User.Umask))
	} else {
		unix.Umask(0o022)
	}
	return nil
}
