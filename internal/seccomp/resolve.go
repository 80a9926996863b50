package seccomp

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
)

// Env is what Docker's includes/excludes are evaluated against.
type Env struct {
	Arch   string   // native arch, libseccomp name; "" means this machine's
	Caps   []string // the container's capabilities (CAP_SYS_ADMIN, ...)
	Kernel string   // kernel release; "" means the running kernel
}

func (e Env) withDefaults() Env {
	if e.Arch == "" {
		e.Arch = NativeArch()
	}
	if e.Kernel == "" {
		e.Kernel = HostKernel()
	}
	return e
}

// condRule is one argument-checked rule of a call, in profile order.
type condRule struct {
	args   []Arg
	action Action
	rule   int
}

// callPlan is what one call number does: the first matching condRule's
// action, else the unconditional action, else the default.
type callPlan struct {
	name     string
	conds    []condRule
	uncond   *Action
	uncondBy int
}

// archPlan is the resolved profile for one architecture.
type archPlan struct {
	arch  syscalls.Arch
	calls map[uint32]*callPlan
}

// plan is the resolved profile: what the compiler turns into BPF.
type plan struct {
	def    Action
	arches []archPlan
}

// filterArches lists the architectures the filter covers: OCI's
// architectures, else Docker's archMap entry for the native arch, else native.
func (p *Profile) filterArches(native string) []string {
	var names []string
	switch {
	case len(p.Architectures) > 0:
		names = p.Architectures
	case len(p.ArchMap) > 0:
		for _, m := range p.ArchMap {
			if strings.EqualFold(m.Arch, native) {
				names = append([]string{m.Arch}, m.Subs...)
			}
		}
	}
	if len(names) == 0 {
		names = []string{native}
	}
	var out []string
	for _, n := range names {
		n = strings.ToUpper(n)
		if _, ok := syscalls.LookupArch(n); ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// applies evaluates a rule's includes and excludes as moby does.
func (r *Rule) applies(env Env, kernel kver) bool {
	ga := goArch[env.Arch]
	in, ex := r.Includes, r.Excludes
	if len(in.Arches) > 0 && !slices.Contains(in.Arches, ga) {
		return false
	}
	for _, c := range in.Caps {
		if !slices.Contains(env.Caps, c) {
			return false
		}
	}
	if in.MinKernel != "" {
		if k, err := parseKernel(in.MinKernel); err == nil && !kernel.atLeast(k) {
			return false
		}
	}
	if len(ex.Arches) > 0 && slices.Contains(ex.Arches, ga) {
		return false
	}
	for _, c := range ex.Caps {
		if slices.Contains(env.Caps, c) {
			return false
		}
	}
	if ex.MinKernel != "" {
		if k, err := parseKernel(ex.MinKernel); err == nil && kernel.atLeast(k) {
			return false
		}
	}
	return true
}

// resolve applies includes/excludes and maps names to numbers per arch,
// refusing contradictory rules.
func (p *Profile) resolve(env Env) (*plan, error) {
	env = env.withDefaults()
	kernel, err := parseKernel(env.Kernel)
	if err != nil {
		return nil, fmt.Errorf("resolve seccomp profile: %w", err)
	}
	pl := &plan{def: p.DefaultAction}
	for _, an := range p.filterArches(env.Arch) {
		a, _ := syscalls.LookupArch(an)
		ap := archPlan{arch: a, calls: map[uint32]*callPlan{}}
		for i := range p.Rules {
			r := &p.Rules[i]
			if !r.applies(env, kernel) {
				continue
			}
			for _, name := range r.Names {
				nr, ok := a.Number(name)
				if !ok {
					continue // exists on other architectures only
				}
				if err := ap.add(nr, name, r); err != nil {
					return nil, err
				}
			}
		}
		pl.arches = append(pl.arches, ap)
	}
	return pl, nil
}

func (ap *archPlan) add(nr uint32, name string, r *Rule) error {
	c := ap.calls[nr]
	if c == nil {
		c = &callPlan{name: name}
		ap.calls[nr] = c
	}
	if len(r.Args) == 0 {
		if c.uncond != nil {
			// Engines generate these (Podman's profile allows setns, then
			// denies it without CAP_SYS_ADMIN): as libseccomp, and so runc,
			// the first unconditional rule wins; `seccomp lint` reports the
			// shadowed one.
			return nil
		}
		for _, prev := range c.conds {
			if prev.action != r.Action {
				return contradiction(r.Index, prev.rule, name, ap.arch.Name)
			}
		}
		act := r.Action
		c.uncond, c.uncondBy = &act, r.Index
		return nil
	}
	if c.uncond != nil && *c.uncond != r.Action {
		return contradiction(c.uncondBy, r.Index, name, ap.arch.Name)
	}
	for _, prev := range c.conds {
		if slices.Equal(prev.args, r.Args) && prev.action != r.Action {
			return fmt.Errorf("seccomp profile: syscalls[%d] and syscalls[%d] give %s the same argument checks but contradictory actions %s and %s",
				prev.rule, r.Index, name, prev.action, r.Action)
		}
	}
	c.conds = append(c.conds, condRule{args: r.Args, action: r.Action, rule: r.Index})
	return nil
}

// outcome returns what call c does when its arguments are not known: the
// conditional rules that still matter and the fallback action.
func (c *callPlan) outcome(def Action) ([]condRule, Action) {
	fb := def
	if c.uncond != nil {
		fb = *c.uncond
	}
	// Trailing rules that give the fallback anyway are dead; earlier ones
	// still decide before a later, different rule could match.
	conds := c.conds
	for len(conds) > 0 && conds[len(conds)-1].action == fb {
		conds = conds[:len(conds)-1]
	}
	return conds, fb
}

// contradiction explains an unconditional rule that overrides an argument
// rule with a different action: libseccomp (and so runc) silently drops the
// argument rule, so trustbox refuses the profile instead of guessing.
func contradiction(uncond, cond int, name, arch string) error {
	return fmt.Errorf("seccomp profile: syscalls[%d] gives %s on %s one action for all arguments, so the argument rule syscalls[%d] with a different action would never apply: contradictory rules (drop one or give both the same action)", uncond, name, arch, cond)
}
