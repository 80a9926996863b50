package cli

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/config"
)

// seccompFor returns the compiler the runtime uses for linux.seccomp (nil until the seccomp subsystem is wired).
func seccompFor(g *Global) func(*specs.Spec) ([]config.SockFilter, uint, error) { return nil }
