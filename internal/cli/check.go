package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/trustbox/trustbox/internal/bundlecheck"
	"github.com/trustbox/trustbox/internal/findings"
	"github.com/trustbox/trustbox/internal/hostaudit"
)

// checkFlags are the flags of `trustbox check`, accepted before or after
// the subcommand and its argument (std flag stops at the first positional).
type checkFlags struct {
	format, only, skip, hostRoot string
}

func (c *checkFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&c.format, "format", c.format, "text, json or sarif")
	fs.StringVar(&c.only, "only", c.only, "comma-separated check IDs, ID prefixes, sections or requirement IDs to run")
	fs.StringVar(&c.skip, "skip", c.skip, "comma-separated check IDs, ID prefixes, sections or requirement IDs to skip")
	fs.StringVar(&c.hostRoot, "host-root", c.hostRoot, "root directory of the host to audit (a recorded fixture; default /)")
}

func init() {
	register(command{name: "check", usage: "host|bundle DIR|config FILE [--format text|json|sarif] [--only IDS] [--skip IDS] [--host-root DIR] (exit 3: a check failed, 4: a check could not decide)",
		setup: func(g *Global, fs *flag.FlagSet) func(args []string) error {
			cf := &checkFlags{format: "text", hostRoot: "/"}
			cf.define(fs)
			return func(args []string) error { return runCheck(g.Stdout, cf, g.Root, args) }
		}})
}

// interleaved parses flags anywhere among the positional arguments.
func (c *checkFlags) interleaved(args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		fs := flag.NewFlagSet("check", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.define(fs)
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	return pos, nil
}

func runCheck(w io.Writer, cf *checkFlags, stateRoot string, args []string) error {
	pos, err := cf.interleaved(args)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if len(pos) == 0 {
		return errors.New("check: expected host, bundle DIR or config FILE")
	}
	only, skip := findings.SplitList(cf.only), findings.SplitList(cf.skip)
	var rep *findings.Report
	switch {
	case pos[0] == "host" && len(pos) == 1:
		rep, err = hostaudit.Run(hostaudit.Options{Root: cf.hostRoot, StateRoot: stateRoot, Only: only, Skip: skip, Version: Version})
	case pos[0] == "bundle" && len(pos) == 2:
		rep, err = bundlecheck.CheckBundle(pos[1], bundlecheck.Options{Only: only, Skip: skip, Version: Version})
	case pos[0] == "config" && len(pos) == 2:
		rep, err = bundlecheck.CheckConfig(pos[1], bundlecheck.Options{Only: only, Skip: skip, Version: Version})
	default:
		return fmt.Errorf("check: expected host, bundle DIR or config FILE, got %q", pos)
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", pos[0], err)
	}
	if err := findings.Write(w, rep, cf.format); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if code := rep.ExitCode(); code != 0 {
		return &exitError{code: code}
	}
	return nil
}
