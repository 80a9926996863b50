package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/trustbox/trustbox/internal/seccomp"
)

func init() {
	seccomp.MaybeLearnChild() // the learning helper re-executes this binary
	register(command{name: "seccomp", usage: "explain|lint|show|record|generate [flags] ARGS (PROFILE: default, strict, minimal or a JSON file)", setup: func(g *Global, _ *flag.FlagSet) func([]string) error {
		return func(args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("seccomp: expected a subcommand: explain, lint, show, record or generate")
			}
			sub, ok := seccompSubs[args[0]]
			if !ok {
				return fmt.Errorf("seccomp: unknown subcommand %q (explain, lint, show, record, generate)", args[0])
			}
			fs := flag.NewFlagSet("seccomp "+args[0], flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			run := sub(g, fs)
			if err := fs.Parse(args[1:]); err != nil {
				return fmt.Errorf("seccomp %s: %w", args[0], err)
			}
			return run(fs.Args())
		}
	}})
}

func envFlags(fs *flag.FlagSet) func() seccomp.Env {
	arch := fs.String("arch", "", "native architecture (SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64); default this machine's")
	caps := fs.String("caps", "", "comma-separated capabilities the container has, for Docker includes/excludes")
	kernel := fs.String("kernel", "", "kernel version for minKernel rules; default the running kernel")
	return func() seccomp.Env {
		e := seccomp.Env{Arch: *arch, Kernel: *kernel}
		if *caps != "" {
			e.Caps = strings.Split(*caps, ",")
		}
		return e
	}
}

var seccompSubs = map[string]func(g *Global, fs *flag.FlagSet) func([]string) error{
	"explain": func(g *Global, fs *flag.FlagSet) func([]string) error {
		env := envFlags(fs)
		allowPtrace := fs.Bool("allow-ptrace", false, "explicit override of R-LSM-e for profiles that allow ptrace")
		return func(args []string) error {
			if err := needArgs("seccomp explain", args, 1, 1, "one PROFILE"); err != nil {
				return err
			}
			o := seccomp.Options{Env: env()}
			if *allowPtrace {
				o.Ptrace = seccomp.PtraceAllow
			}
			return seccomp.ExplainProfile(g.Stdout, args[0], o)
		}
	},
	"lint": func(g *Global, fs *flag.FlagSet) func([]string) error {
		format := fs.String("format", "text", "text or json")
		return func(args []string) error {
			if err := needArgs("seccomp lint", args, 1, 1, "one PROFILE"); err != nil {
				return err
			}
			bad, err := seccomp.LintProfile(g.Stdout, args[0], *format)
			if err != nil {
				return err
			}
			if bad {
				return &exitError{code: 1}
			}
			return nil
		}
	},
	"show": func(g *Global, fs *flag.FlagSet) func([]string) error {
		env := envFlags(fs)
		oci := fs.Bool("oci", false, "resolve includes/excludes and print OCI linux.seccomp")
		return func(args []string) error {
			if err := needArgs("seccomp show", args, 1, 1, "one PROFILE"); err != nil {
				return err
			}
			return seccomp.ShowProfile(g.Stdout, args[0], *oci, env())
		}
	},
	"record": func(g *Global, fs *flag.FlagSet) func([]string) error {
		base := fs.String("base", "minimal", "profile whose allowed calls are not trapped (a previous recording makes re-runs fast)")
		out := fs.String("o", "", "write the learned profile (Docker JSON) here")
		events := fs.String("events", "", "append one JSON line per reported call to this file (- for stderr)")
		bundle := fs.String("bundle", "", "record a container instead of a host command: run this OCI bundle (its linux.seccomp, or trustbox's default, is the base unless --base is given)")
		return func(args []string) error {
			if *out == "" {
				return fmt.Errorf("seccomp record: -o OUT.json is required")
			}
			if *bundle != "" {
				return recordBundle(g, fs, *bundle, *base, *out)
			}
			if err := needArgs("seccomp record", args, 1, -1, "-o OUT.json [--base PROFILE] -- COMMAND [ARGS...]"); err != nil {
				return err
			}
			o := seccomp.RecordOptions{Base: *base, Out: *out, Stdin: os.Stdin, Stdout: g.Stdout, Stderr: g.Stderr}
			switch *events {
			case "":
			case "-":
				o.Events = g.Stderr
			default:
				f, err := os.OpenFile(*events, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
				if err != nil {
					return fmt.Errorf("seccomp record: events file: %w", err)
				}
				defer f.Close()
				o.Events = f
			}
			code, err := seccomp.RecordToFile(args, o)
			if err != nil {
				return err
			}
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		}
	},
	"generate": func(g *Global, fs *flag.FlagSet) func([]string) error {
		template := fs.String("template", "", "application type: "+strings.Join(seccomp.Templates(), ", "))
		strict := fs.Bool("strict", false, "kill on calls outside the whitelist (R-LSM-d) instead of EPERM")
		out := fs.String("o", "", "write the profile here (default stdout); reasons go to stderr")
		return func(args []string) error {
			if len(args) == 0 && *template == "" {
				return fmt.Errorf("seccomp generate: give recordings (RECORDING.json ...) and/or --template")
			}
			w := g.Stdout
			if *out != "" {
				f, err := os.Create(*out)
				if err != nil {
					return fmt.Errorf("seccomp generate: %w", err)
				}
				defer f.Close()
				w = f
			}
			return seccomp.GenerateProfile(w, g.Stderr, args, *template, *strict)
		}
	},
}
