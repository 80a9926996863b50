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

// setScheduling applies process.execCPUAffinity, linux.memoryPolicy,
// process.ioPriority and process.scheduler, in that order, to this thread,
// the one that execs the workload, which keeps all four across execve. It
// runs just before the privileges are dropped, after every hook init runs
// (a hook must not inherit them: a SCHED_DEADLINE task cannot even fork),
// and the affinity comes first because SCHED_DEADLINE's admission test
// depends on it. The runtime validated them; the kernel may still refuse (a
// real-time policy needs CAP_SYS_NICE in the host's user namespace), and
// that refusal is the error.
func setScheduling(p *specs.Process, l *specs.Linux) error {
	if a := p.ExecCPUAffinity; a != nil {
		initial, final, err := spec.CPUAffinity(a)
		if err == nil && final == nil && initial != nil {
			// Only the start was pinned: the workload gets every CPU its
			// cpuset allows (the kernel drops the others from the mask).
			final = &unix.CPUSet{}
			for i := 0; i < 1024; i++ {
				final.Set(i)
			}
		}
		if err == nil && final != nil {
			err = unix.SchedSetaffinity(0, final)
		}
		if err != nil {
			return fmt.Errorf("process.execCPUAffinity %q: %w", a.Final, err)
		}
	}
	if l != nil && l.MemoryPolicy != nil {
		mode, nodes, err := spec.MemPolicy(l.MemoryPolicy)
		if err == nil {
			err = unix.SetMemPolicy(mode, nodes)
		}
		if err != nil {
			return fmt.Errorf("linux.memoryPolicy %s %q: %w", l.MemoryPolicy.Mode, l.MemoryPolicy.Nodes, err)
		}
	}
	if p.IOPriority != nil {
		prio, err := spec.IOPrio(p.IOPriority)
		if err == nil {
			const whoProcess = 1 // IOPRIO_WHO_PROCESS; who 0 is the calling thread
			if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, whoProcess, 0, uintptr(prio)); e != 0 {
				err = e
			}
		}
		if err != nil {
			return fmt.Errorf("process.ioPriority %s %d: %w", p.IOPriority.Class, p.IOPriority.Priority, err)
		}
	}
	if p.Scheduler != nil {
		attr, err := spec.SchedAttr(p.Scheduler)
		if err == nil {
			err = unix.SchedSetAttr(0, attr, 0)
		}
		if err != nil {
			return fmt.Errorf("process.scheduler %s: %w", p.Scheduler.Policy, err)
		}
	}
	return nil
}
