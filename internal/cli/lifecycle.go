package cli

import (
	"errors"
	"flag"
	"fmt"

	"github.com/trustbox/trustbox/internal/auditlog"
	"github.com/trustbox/trustbox/internal/runtime"
)

func newRuntime(g *Global) *runtime.Runtime {
	log := auditlog.Open(g.Root)
	return &runtime.Runtime{Root: g.Root, Version: Version, Audit: func(event, id string, fields map[string]any) {
		if err := log.Append(event, id, fields); err != nil {
			g.logger.Warn("audit: " + err.Error())
		}
	}}
}

// noSystemd refuses the systemd cgroup driver clearly instead of ignoring it.
func noSystemd(g *Global) error {
	if g.SystemdCgroup {
		return fmt.Errorf("--systemd-cgroup: the systemd cgroup driver is not supported yet; use cgroupfs (Podman: --cgroup-manager=cgroupfs; containerd: SystemdCgroup = false)")
	}
	return nil
}

func createFlags(fs *flag.FlagSet, o *runtime.CreateOptions) {
	fs.StringVar(&o.Bundle, "bundle", ".", "path to the OCI bundle")
	fs.StringVar(&o.Bundle, "b", ".", "path to the OCI bundle")
	fs.StringVar(&o.PidFile, "pid-file", "", "write the init pid to this file")
	fs.StringVar(&o.ConsoleSocket, "console-socket", "", "unix socket that receives the pty master")
	fs.IntVar(&o.PreserveFds, "preserve-fds", 0, "pass this many extra fds (3..) to the container")
	fs.BoolVar(&o.NoPivot, "no-pivot", false, "use MS_MOVE and chroot instead of pivot_root")
	fs.Bool("no-new-keyring", false, "accepted for runc compatibility")
	fs.StringVar(&o.Vtpm, "vtpm", "", "give the container a measured vTPM: true (the default manager) or unix:PATH of a `trustbox vtpmd` socket")
}

func init() {
	register(command{name: "create", usage: "[--bundle DIR] [--pid-file F] [--console-socket S] ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		var o runtime.CreateOptions
		createFlags(fs, &o)
		return func(args []string) error {
			if err := needArgs("create", args, 1, 1, "a container ID"); err != nil {
				return err
			}
			if err := noSystemd(g); err != nil {
				return err
			}
			o.ID = args[0]
			o.Warn, o.Debug = g.logger.Warn, func(m string) { g.logger.Debugf("%s", m) }
			o.Seccomp = seccompFor(g)
			_, err := newRuntime(g).Create(o)
			return err
		}
	}})
	register(command{name: "start", usage: "ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		return func(args []string) error {
			if err := needArgs("start", args, 1, 1, "a container ID"); err != nil {
				return err
			}
			return newRuntime(g).Start(args[0])
		}
	}})
	register(command{name: "delete", usage: "[--force] ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		force := fs.Bool("force", false, "kill the container if it is running")
		fs.BoolVar(force, "f", false, "kill the container if it is running")
		return func(args []string) error {
			if err := needArgs("delete", args, 1, -1, "container IDs"); err != nil {
				return err
			}
			var errs []error
			for _, id := range args {
				errs = append(errs, newRuntime(g).Delete(id, *force))
			}
			return errors.Join(errs...)
		}
	}})
	register(command{name: "kill", usage: "[--all] ID [SIGNAL]", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		all := fs.Bool("all", false, "signal every process of the container")
		fs.BoolVar(all, "a", false, "signal every process of the container")
		return func(args []string) error {
			if err := needArgs("kill", args, 1, 2, "ID [SIGNAL]"); err != nil {
				return err
			}
			name := "SIGTERM"
			if len(args) == 2 {
				name = args[1]
			}
			sig, err := parseSignal(name)
			if err != nil {
				return err
			}
			return newRuntime(g).Kill(args[0], sig, *all)
		}
	}})
	for _, name := range []string{"pause", "resume"} {
		name := name
		register(command{name: name, usage: "ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
			return func(args []string) error {
				if err := needArgs(name, args, 1, 1, "a container ID"); err != nil {
					return err
				}
				if name == "pause" {
					return newRuntime(g).Pause(args[0])
				}
				return newRuntime(g).Resume(args[0])
			}
		}})
	}
}
