package cli

import (
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/filtercache"
	"github.com/trustbox/trustbox/internal/seccomp"
)

// seccompFor compiles every container's filter: the config's linux.seccomp
// (Docker's and the engines' profiles unchanged) with trustbox's always-on
// blacklist merged in, or trustbox's "default" profile when the config has
// none (R-LSM-c, R-LSM-d, R-LSM-e).
func seccompFor(g *Global) func(*specs.Spec) ([]config.SockFilter, uint, error) {
	compile := seccomp.SpecCompiler(seccomp.SpecOptions{Default: "default", Ptrace: seccomp.PtraceDeny, MergeBlacklist: true, AllowListener: true}, func(msg string) {
		g.logger.Debugf("seccomp: %s", msg)
	})
	// Compiling the default profile costs ~3 ms per container: reuse it. The
	// cache lives in the root-only state root (a name no container ID can take).
	return filtercache.Wrap(filepath.Join(g.Root, ".seccomp-cache"), "default;ptrace-deny;merge-blacklist;listener", compile)
}
