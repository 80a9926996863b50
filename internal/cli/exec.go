package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/runtime"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func init() {
	register(command{name: "exec", usage: "[--process FILE | flags] ID [COMMAND ARGS...]", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		var o runtime.ExecOptions
		var env, caps, gids listFlag
		procFile := fs.String("process", "", "JSON file of the process to run")
		fs.StringVar(procFile, "p", "", "JSON file of the process to run")
		tty := fs.Bool("tty", false, "allocate a pseudo-TTY")
		fs.BoolVar(tty, "t", false, "allocate a pseudo-TTY")
		cwd := fs.String("cwd", "", "working directory in the container")
		user := fs.String("user", "", "UID[:GID]")
		fs.StringVar(user, "u", "", "UID[:GID]")
		fs.Var(&env, "env", "KEY=VALUE (repeatable)")
		fs.Var(&env, "e", "KEY=VALUE (repeatable)")
		fs.Var(&caps, "cap", "add a capability (repeatable)")
		fs.Var(&gids, "additional-gids", "additional gid (repeatable)")
		fs.Var(&gids, "g", "additional gid (repeatable)")
		fs.BoolVar(&o.Detach, "detach", false, "do not wait for the process")
		fs.BoolVar(&o.Detach, "d", false, "do not wait for the process")
		fs.StringVar(&o.PidFile, "pid-file", "", "write the process pid here")
		fs.StringVar(&o.ConsoleSocket, "console-socket", "", "unix socket that receives the pty master")
		fs.IntVar(&o.PreserveFds, "preserve-fds", 0, "pass this many extra fds")
		fs.Bool("no-new-privs", true, "always on in trustbox")
		return func(args []string) error {
			if err := needArgs("exec", args, 1, -1, "ID [COMMAND ARGS...]"); err != nil {
				return err
			}
			rt := newRuntime(g)
			p, err := rt.BaseProcess(args[0])
			if err != nil {
				return err
			}
			if *procFile != "" {
				data, err := os.ReadFile(*procFile)
				if err != nil {
					return fmt.Errorf("exec --process: %w", err)
				}
				p = &specs.Process{}
				if err := json.Unmarshal(data, p); err != nil {
					return fmt.Errorf("exec --process %s: %w", *procFile, err)
				}
			} else {
				if len(args) < 2 {
					return fmt.Errorf("exec: give a command or --process FILE")
				}
				p.Args = args[1:]
			}
			if err := applyExecFlags(p, *tty, *cwd, *user, env, caps, gids); err != nil {
				return err
			}
			if p.Terminal && o.ConsoleSocket == "" && !o.Detach {
				restore := func() {}
				defer func() { restore() }()
				o.OnPty = func(pty *os.File) { restore = proxyTerminal(pty) }
			} else if p.Terminal && o.ConsoleSocket == "" {
				return fmt.Errorf("exec --tty --detach needs --console-socket to hand the terminal to")
			}
			o.Process = p
			o.Seccomp = seccompFor(g)
			code, err := rt.Exec(args[0], o)
			if err != nil {
				return err
			}
			return &exitError{code}
		}
	}})
}

func applyExecFlags(p *specs.Process, tty bool, cwd, user string, env, caps, gids []string) error {
	if tty {
		p.Terminal = true
	}
	if cwd != "" {
		p.Cwd = cwd
	}
	p.Env = append(p.Env, env...)
	if user != "" {
		u, g, hasG := strings.Cut(user, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return fmt.Errorf("exec --user %q: want UID[:GID] as numbers", user)
		}
		p.User.UID = uint32(uid)
		if hasG {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return fmt.Errorf("exec --user %q: want UID[:GID] as numbers", user)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, s := range gids {
		gid, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return fmt.Errorf("exec --additional-gids %q: not a number", s)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
	}
	if len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		c := p.Capabilities
		for _, name := range caps {
			c.Bounding, c.Effective, c.Permitted = append(c.Bounding, name), append(c.Effective, name), append(c.Permitted, name)
		}
	}
	return nil
}
