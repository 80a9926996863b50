package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trustbox/trustbox/internal/seccomp"
	"github.com/trustbox/trustbox/internal/spec"
)

func init() {
	register(command{name: "spec", usage: "[--bundle DIR] [--rootless]", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		bundle := fs.String("bundle", ".", "directory to write config.json in")
		fs.StringVar(bundle, "b", ".", "directory to write config.json in")
		rootless := fs.Bool("rootless", false, "map only the calling user (no subordinate ids)")
		return func(args []string) error {
			if err := needArgs("spec", args, 0, 0, "no arguments"); err != nil {
				return err
			}
			path := filepath.Join(*bundle, "config.json")
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("spec: %s already exists: remove it first", path)
			} else if !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("spec: %w", err)
			}
			s := spec.Default(*rootless, uint32(os.Getuid()), uint32(os.Getgid()))
			// Written out, so the config is explicit and portable to other runtimes.
			prof, err := seccomp.Builtin("default")
			if err != nil {
				return err
			}
			if s.Linux.Seccomp, err = prof.ToOCI(seccomp.Env{Caps: s.Process.Capabilities.Bounding}); err != nil {
				return fmt.Errorf("spec: seccomp: %w", err)
			}
			data, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				return err
			}
			return os.WriteFile(path, append(data, '\n'), 0o644)
		}
	}})
}
