package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/linux"
)

// lsmExecLabel returns the procfs attribute file and value that make the
// next execve run under the process's LSM label ("" when none is asked).
func lsmExecLabel(p *specs.Process) (file, value string) {
	switch {
	case p.ApparmorProfile != "":
		return "thread-self/attr/apparmor/exec", "exec " + p.ApparmorProfile
	case p.SelinuxLabel != "":
		return "thread-self/attr/exec", p.SelinuxLabel
	}
	return "", ""
}

// setExecLabel writes the label through a verified procfs, refusing to cross
// any mount on the way, so a mount over /proc cannot redirect the write
// (CVE-2019-19921). The runtime has already refused labels the host lacks.
func setExecLabel(p *specs.Process) error {
	file, value := lsmExecLabel(p)
	if file == "" {
		return nil
	}
	proc, err := openInRoot("/proc", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("LSM label: %w", err)
	}
	defer proc.Close()
	if err := verifyProcfs(proc); err != nil {
		return err
	}
	f, err := linux.Openat2(int(proc.Fd()), file, unix.O_WRONLY, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_MAGICLINKS|unix.RESOLVE_NO_XDEV)
	if err != nil {
		return fmt.Errorf("LSM label %q: %w", value, err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(value)); err != nil {
		return fmt.Errorf("LSM label %q: %w", value, err)
	}
	return nil
}
