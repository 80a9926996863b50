package cli

import (
	"flag"
	"fmt"

	"github.com/trustbox/trustbox/internal/demo"
)

func init() {
	register(command{name: "demo", usage: "[--json]: run the embedded inspector with every protection on and report", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		asJSON := fs.Bool("json", false, "print the report as JSON")
		return func(args []string) error {
			rt := newRuntime(g)
			res, err := demo.Run(demo.Options{Root: g.Root, Seccomp: seccompFor(g), Audit: rt.Audit})
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			if err := demo.Print(g.Stdout, res, *asJSON); err != nil {
				return err
			}
			if !res.Protected {
				return &exitError{code: 3}
			}
			return nil
		}
	}})
}
