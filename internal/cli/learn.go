package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/runtime"
	"github.com/trustbox/trustbox/internal/seccomp"
)

// learner is `run --seccomp-learn`: the workload runs with every call outside
// its profile reported to us instead of refused (R-LSM-d's trap-and-report
// mode), and the calls it used are written out as a Docker-JSON whitelist
// that keeps the always-on blacklist.
type learner struct {
	out string
	// override, when set, is the base instead of the config's profile.
	override *seccomp.Profile
	base     *seccomp.Profile
	rec      *seccomp.Recording
	done     chan error
}

// compiler returns the hook that compiles the learning filter.
func (l *learner) compiler() func(*specs.Spec) ([]config.SockFilter, uint, error) {
	return func(s *specs.Spec) ([]config.SockFilter, uint, error) {
		var err error
		switch {
		case l.override != nil:
			l.base = l.override
		case s.Linux != nil && s.Linux.Seccomp != nil:
			l.base, err = seccomp.FromOCI(s.Linux.Seccomp)
		default:
			l.base, err = seccomp.Builtin("default")
		}
		if err != nil {
			return nil, 0, err
		}
		prog, err := seccomp.CompileLearning(l.base, seccomp.Options{Ptrace: seccomp.PtraceDeny})
		if err != nil {
			return nil, 0, err
		}
		return prog.Config(), unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, nil
	}
}

// supervise takes the listener from the started container and answers it.
func (l *learner) supervise(c *runtime.Container, audit func(string, string, map[string]any)) error {
	fd, err := c.Listener()
	if err != nil {
		return err
	}
	l.rec = seccomp.NewRecording()
	l.rec.OnEvent = func(ev seccomp.Event) {
		if ev.New && audit != nil {
			audit("seccomp-learn", c.State.ID, map[string]any{"syscall": ev.Name, "arch": ev.Arch, "pid": ev.Pid})
		}
	}
	l.done = make(chan error, 1)
	go func() { l.done <- l.rec.Supervise(fd); unix.Close(fd) }()
	return nil
}

// write waits for the supervisor to see the workload go and saves the profile.
func (l *learner) write() error {
	if l.done != nil {
		if err := <-l.done; err != nil {
			return fmt.Errorf("seccomp learning: %w", err)
		}
	}
	data, err := json.MarshalIndent(l.rec.Profile(l.base), "", "  ")
	if err != nil {
		return fmt.Errorf("seccomp learning: %w", err)
	}
	if err := os.WriteFile(l.out, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("--seccomp-learn: %w", err)
	}
	return nil
}

// recordBundle is `seccomp record --bundle DIR`: the bundle runs once as a
// throwaway container in learning mode (R-LSM-c, R-LSM-d).
func recordBundle(g *Global, fs *flag.FlagSet, bundle, base, out string) error {
	l := &learner{out: out}
	var err error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "base" {
			l.override, err = seccomp.Load(base)
		}
	})
	if err != nil {
		return fmt.Errorf("seccomp record --base %s: %w", base, err)
	}
	o := runtime.CreateOptions{ID: fmt.Sprintf("seccomp-record-%d", os.Getpid()), Bundle: bundle, Seccomp: l.compiler(), SeccompLearning: true,
		Warn: g.logger.Warn, Debug: func(m string) { g.logger.Debugf("%s", m) }}
	code, err := run(newRuntime(g), o, false, false, l)
	if err != nil {
		return fmt.Errorf("seccomp record --bundle %s: %w", bundle, err)
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}
