package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// SpecOptions are the runtime's choices for compiling a container's filter.
type SpecOptions struct {
	// Default names the built-in profile used when config.json has no
	// linux.seccomp ("default" for secure-by-default; "" installs none).
	Default string
	// Ptrace is R-LSM-e's policy; engines' default profiles (Docker,
	// containerd, Podman) allow ptrace, so PtraceDeny keeps them running.
	Ptrace PtracePolicy
	// Kernel overrides the running kernel's version for minKernel rules.
	Kernel string
	// MergeBlacklist kills Blacklist calls in given profiles too (the
	// baseline's always-on blacklist, docs/policy.md); ptrace is then
	// killed rather than refused.
	MergeBlacklist bool
	// AllowListener accepts SCMP_ACT_NOTIFY profiles: the program then asks
	// for a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER) and the runtime
	// hands it to the profile's listenerPath.
	AllowListener bool
}

// CompileSpec compiles the spec's linux.seccomp (or the Default built-in)
// for the container's bounding capabilities. A nil program means no filter.
// notes are the decisions the caller must log (ptrace override or denial).
func CompileSpec(s *specs.Spec, o SpecOptions) (prog *Program, notes []string, err error) {
	var p *Profile
	switch {
	case s.Linux != nil && s.Linux.Seccomp != nil:
		if p, err = FromOCI(s.Linux.Seccomp); err != nil {
			return nil, nil, err
		}
	case o.Default != "":
		if p, err = Builtin(o.Default); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, nil
	}
	env := Env{Kernel: o.Kernel}
	if s.Process != nil && s.Process.Capabilities != nil {
		env.Caps = s.Process.Capabilities.Bounding
	}
	prog, err = Compile(p, Options{Env: env, Ptrace: o.Ptrace, MergeBlacklist: o.MergeBlacklist})
	if err != nil {
		return nil, nil, err
	}
	if prog.NeedsListener() {
		if !o.AllowListener {
			return nil, nil, fmt.Errorf("SCMP_ACT_NOTIFY needs the listener hand-off to listenerPath %q, which this caller does not do", p.ListenerPath)
		}
		if p.ListenerPath == "" {
			return nil, nil, fmt.Errorf("SCMP_ACT_NOTIFY rules need a listenerPath to send the listener to")
		}
		prog.Flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		return prog, prog.Notes, nil
	}
	prog.Flags |= unix.SECCOMP_FILTER_FLAG_TSYNC
	return prog, prog.Notes, nil
}

// SpecCompiler adapts CompileSpec to the runtime's CreateOptions.Seccomp
// hook; logf receives the notes (explicit overrides are logged, R-LSM-e).
func SpecCompiler(o SpecOptions, logf func(string)) func(*specs.Spec) ([]config.SockFilter, uint, error) {
	return func(s *specs.Spec) ([]config.SockFilter, uint, error) {
		prog, notes, err := CompileSpec(s, o)
		if err != nil {
			return nil, 0, err
		}
		for _, n := range notes {
			if logf != nil {
				logf("seccomp: " + n)
			}
		}
		if prog == nil {
			return nil, 0, nil
		}
		return prog.Config(), prog.Flags, nil
	}
}

// Config is the program as the runtime hands it to init.
func (p *Program) Config() []config.SockFilter {
	out := make([]config.SockFilter, len(p.Filter))
	for i, in := range p.Filter {
		out[i] = config.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out
}
