package runtime

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/initproc"
)

// runHostHooks runs prestart, createRuntime, poststart or poststop hooks in the runtime's namespaces.
func runHostHooks(h *specs.Hooks, kind string, state []byte) error {
	if h == nil {
		return nil
	}
	var hooks []specs.Hook
	switch kind {
	case "prestart":
		hooks = h.Prestart
	case "createRuntime":
		hooks = h.CreateRuntime
	case "poststart":
		hooks = h.Poststart
	case "poststop":
		hooks = h.Poststop
	}
	for i, hk := range hooks {
		if err := initproc.RunHook(hk, state); err != nil {
			return fmt.Errorf("hooks.%s[%d] %s: %w", kind, i, hk.Path, err)
		}
	}
	return nil
}

// runtimeHooks runs the prestart (deprecated) and createRuntime hooks, in
// that order, with the state of the container being created.
func (ip *initProc) runtimeHooks() error {
	if ip.st == nil {
		return fmt.Errorf("container init: asked for runtime hooks while joining a container")
	}
	state := marshal(ip.st.State)
	if err := runHostHooks(ip.st.Spec.Hooks, "prestart", state); err != nil {
		return err
	}
	return runHostHooks(ip.st.Spec.Hooks, "createRuntime", state)
}
