package cli

import (
	"flag"
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/runtime"
)

func init() {
	register(command{name: "run", usage: "[--bundle DIR] [--detach] [--keep] [--pid-file F] [--console-socket S] ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		var o runtime.CreateOptions
		createFlags(fs, &o)
		detach := fs.Bool("detach", false, "do not wait for the container")
		fs.BoolVar(detach, "d", false, "do not wait for the container")
		keep := fs.Bool("keep", false, "do not delete the container after it exits")
		learn := fs.String("seccomp-learn", "", "report calls outside the seccomp profile instead of refusing them, and write the profile the workload used to this file")
		return func(args []string) error {
			if err := needArgs("run", args, 1, 1, "a container ID"); err != nil {
				return err
			}
			if err := noSystemd(g); err != nil {
				return err
			}
			o.ID, o.Overlap = args[0], true
			o.Warn, o.Debug = g.logger.Warn, func(m string) { g.logger.Debugf("%s", m) }
			o.Seccomp = seccompFor(g)
			var l *learner
			if *learn != "" {
				if *detach {
					return fmt.Errorf("run: --seccomp-learn needs the foreground (no --detach)")
				}
				l = &learner{out: *learn}
				o.Seccomp, o.SeccompLearning = l.compiler(), true
			}
			code, err := run(newRuntime(g), o, *detach, *keep, l)
			if err != nil {
				return err
			}
			return &exitError{code}
		}
	}})
}

// Run creates and starts a container and, unless detached, waits for it and
// returns its exit status (128+signal when killed), deleting it unless keep.
func Run(rt *runtime.Runtime, o runtime.CreateOptions, detach, keep bool) (int, error) {
	return run(rt, o, detach, keep, nil)
}

func run(rt *runtime.Runtime, o runtime.CreateOptions, detach, keep bool, l *learner) (int, error) {
	var forward *signalForwarder
	if !detach {
		forward = forwardSignals()
	}
	c, err := rt.Create(o)
	if err != nil {
		return 1, err
	}
	cleanup := func() {
		if !keep {
			_ = rt.DeleteExited(c)
		}
	}
	if c.Pty != nil {
		defer proxyTerminal(c.Pty)()
	}
	if err := rt.StartCreated(c); err != nil {
		if !keep {
			_ = rt.DeleteFailed(c)
		}
		return 1, err
	}
	if detach {
		return 0, nil
	}
	// The container's init: the runtime's child, or (namespaces entered by
	// the constructor) its grandchild, adopted; Cmd is then the exited
	// intermediate. FindProcess holds a pidfd, so a reused pid is never hit.
	if p, err := os.FindProcess(c.State.Pid); err == nil {
		forward.to(p)
	}
	if l != nil {
		if err := l.supervise(c, rt.Audit); err != nil {
			_ = c.Cmd.Process.Kill()
			_ = c.Cmd.Wait()
			cleanup()
			return 1, err
		}
	}
	code, err := c.Wait()
	if err != nil {
		cleanup()
		return 1, err
	}
	cleanup()
	if l != nil {
		if err := l.write(); err != nil {
			return code, err
		}
	}
	return code, nil
}

// signalForwarder passes the signals a user or supervisor sends to `run` on
// to the container's init (not all 64: installing every handler costs
// milliseconds). It is set up off the critical path, while the container is
// being created; a signal that arrives before the container starts is held
// and delivered once it has.
type signalForwarder struct {
	sigs   chan os.Signal
	target chan *os.Process
}

func forwardSignals() *signalForwarder {
	f := &signalForwarder{sigs: make(chan os.Signal, 16), target: make(chan *os.Process, 1)}
	go func() {
		signal.Notify(f.sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
		p := <-f.target
		for s := range f.sigs {
			_ = p.Signal(s)
		}
	}()
	return f
}

// to names the process to forward to, once it runs.
func (f *signalForwarder) to(p *os.Process) { f.target <- p }
