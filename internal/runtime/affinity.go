package runtime

import (
	"fmt"
	"os/exec"
	goruntime "runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/spec"
)

// startPinned starts cmd with process.execCPUAffinity.initial: a child
// inherits the affinity of the thread that forks it, so a thread of its own
// takes the initial CPUs for the fork and is then thrown away (never
// unlocked: the Go runtime ends a locked thread when its goroutine
// returns), leaving the runtime's other threads as they were. Init applies
// the final affinity once it is in the container's cgroup (no Pdeathsig is
// set, so the thread's end does not signal the child).
func startPinned(cmd *exec.Cmd, p *specs.Process) error {
	if p == nil || p.ExecCPUAffinity == nil || p.ExecCPUAffinity.Initial == "" {
		return cmd.Start()
	}
	initial, _, err := spec.CPUAffinity(p.ExecCPUAffinity) // validated at create
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		if err := unix.SchedSetaffinity(0, initial); err != nil {
			done <- fmt.Errorf("process.execCPUAffinity.initial: %w", err)
			return
		}
		done <- cmd.Start()
	}()
	return <-done
}
