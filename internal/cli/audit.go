package cli

import (
	"flag"
	"fmt"

	"github.com/trustbox/trustbox/internal/auditlog"
)

func init() {
	register(command{name: "audit", usage: "verify [--format text|json]", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		format := fs.String("format", "text", "text or json")
		return func(args []string) error {
			if len(args) != 1 || args[0] != "verify" {
				return fmt.Errorf("audit: expected the subcommand verify")
			}
			log := auditlog.Open(g.Root)
			n, probs, err := log.Verify()
			if err != nil {
				return err
			}
			if *format == "json" {
				if err := printJSON(g, map[string]any{"log": log.Path, "events": n, "ok": len(probs) == 0, "problems": probs}); err != nil {
					return err
				}
			} else {
				for _, p := range probs {
					fmt.Fprintf(g.Stdout, "line %d: %s\n", p.Line, p.Msg)
				}
				fmt.Fprintf(g.Stdout, "%s: %d events, %d problems\n", log.Path, n, len(probs))
			}
			if len(probs) > 0 {
				return fmt.Errorf("audit log %s failed verification (R-OPS-2)", log.Path)
			}
			return nil
		}
	}})
}
