// Package cli parses trustbox's runc-compatible command line and hands each command to one library call.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/trustbox/trustbox/internal/runtime"
)

// Version is the trustbox version reported by --version and features.
const Version = "0.1.0"

// Global holds runc's global flags, shared by every command.
type Global struct {
	Root          string
	Log           string
	LogFormat     string
	Debug         bool
	SystemdCgroup bool
	Rootless      string

	logger *logger
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand: its flags are defined on fs, then run gets the
// remaining positional arguments.
type command struct {
	name  string
	usage string
	// flags registers the command's flags and returns the function that runs it.
	setup func(g *Global, fs *flag.FlagSet) func(args []string) error
}

// exitError carries a process exit status through the error chain without
// printing anything (run uses it to return the container's exit status).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// Main runs the CLI and returns the process exit status.
func Main(argv []string) int {
	if len(argv) > 1 && argv[1] == "init" {
		return runInit()
	}
	if len(argv) > 1 && argv[1] == runtime.HoldUsernsArg {
		_, _ = io.Copy(io.Discard, os.Stdin) // until the runtime closes the pipe
		return 0
	}
	g := &Global{Stdout: os.Stdout, Stderr: os.Stderr}
	fs := flag.NewFlagSet("trustbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.Root, "root", "/run/trustbox", "root directory for storage of container state")
	fs.StringVar(&g.Log, "log", "", "log file path (default: stderr)")
	fs.StringVar(&g.LogFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&g.Debug, "debug", false, "enable debug logging")
	fs.BoolVar(&g.SystemdCgroup, "systemd-cgroup", false, "use systemd for cgroups (not supported yet)")
	fs.StringVar(&g.Rootless, "rootless", "auto", "rootless mode: auto, true or false")
	_ = fs.String("criu", "", "ignored: checkpoint/restore is not supported")
	version := fs.Bool("version", false, "print the version")
	fs.BoolVar(version, "v", false, "print the version")
	help := fs.Bool("help", false, "show help")
	fs.BoolVar(help, "h", false, "show help")
	if err := fs.Parse(argv[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "trustbox: %v\n", err)
		return 2
	}
	if *version {
		fmt.Fprintf(g.Stdout, "trustbox version %s\nspec: %s\n", Version, specVersion())
		return 0
	}
	args := fs.Args()
	if *help || len(args) == 0 {
		usage(g.Stdout)
		return 0
	}
	lg, err := newLogger(g.Log, g.LogFormat, g.Debug)
	if err != nil {
		fmt.Fprintf(os.Stderr, "trustbox: %v\n", err)
		return 2
	}
	defer lg.Close()
	g.logger = lg
	if err := dispatch(g, args); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		lg.Error(err)
		return 1
	}
	return 0
}

func dispatch(g *Global, args []string) error {
	name := args[0]
	if unsupported[name] != "" {
		return fmt.Errorf("%s: %s", name, unsupported[name])
	}
	c, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q (see trustbox --help)", name)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	run := c.setup(g, fs)
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%s: %w (usage: trustbox %s %s)", name, err, name, c.usage)
	}
	return run(fs.Args())
}

var unsupported = map[string]string{
	"checkpoint": "checkpoint/restore is not supported by trustbox",
	"restore":    "checkpoint/restore is not supported by trustbox",
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "trustbox %s: a runc-compatible OCI runtime, secure by default\n\nusage: trustbox [global flags] COMMAND [flags] [args]\n\ncommands:\n", Version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].usage)
	}
	fmt.Fprintln(w, "\nglobal flags: --root DIR --log FILE --log-format text|json --debug --systemd-cgroup --rootless auto|true|false")
}

// needArgs checks the number of positional arguments.
func needArgs(cmd string, args []string, min, max int, what string) error {
	if len(args) < min || (max >= 0 && len(args) > max) {
		return fmt.Errorf("%s: expected %s, got %q", cmd, what, strings.Join(args, " "))
	}
	return nil
}
