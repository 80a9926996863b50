package seccomp

import (
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MarshalJSON writes the profile in Docker's seccomp JSON, which Parse,
// Docker, Podman and containerd read back unchanged.
func (p *Profile) MarshalJSON() ([]byte, error) {
	w := wireProfile{
		Architectures: p.Architectures, ArchMap: p.ArchMap, Flags: p.Flags,
		ListenerPath: p.ListenerPath, ListenerMetadata: p.ListenerMetadata,
	}
	w.DefaultAction, w.DefaultErrnoRet = actionWire(p.DefaultAction)
	for _, r := range p.Rules {
		s := wireSyscall{Names: r.Names, Comment: r.Comment}
		s.Action, s.ErrnoRet = actionWire(r.Action)
		for _, a := range r.Args {
			s.Args = append(s.Args, wireArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: a.Op.String()})
		}
		if !r.Includes.empty() {
			in := r.Includes
			s.Includes = &in
		}
		if !r.Excludes.empty() {
			ex := r.Excludes
			s.Excludes = &ex
		}
		w.Syscalls = append(w.Syscalls, s)
	}
	out, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode seccomp profile: %w", err)
	}
	return out, nil
}

func (c Cond) empty() bool { return len(c.Caps) == 0 && len(c.Arches) == 0 && c.MinKernel == "" }

func actionWire(a Action) (string, *uint) {
	name := kindNames[a.Kind]
	if a.Kind == Errno || (a.Kind == Trace && a.Data != 0) {
		v := uint(a.Data)
		return name, &v
	}
	return name, nil
}

// ToOCI resolves Docker's includes, excludes and archMap for env, as
// Docker, containerd and Podman do before writing config.json, and returns
// the runtime spec's linux.seccomp object.
func (p *Profile) ToOCI(env Env) (*specs.LinuxSeccomp, error) {
	env = env.withDefaults()
	k, err := parseKernel(env.Kernel)
	if err != nil {
		return nil, fmt.Errorf("resolve seccomp profile: %w", err)
	}
	q := &Profile{DefaultAction: p.DefaultAction, Architectures: p.filterArches(env.Arch), Flags: p.Flags,
		ListenerPath: p.ListenerPath, ListenerMetadata: p.ListenerMetadata}
	for _, r := range p.Rules {
		if r.applies(env, k) {
			r.Includes, r.Excludes, r.Comment = Cond{}, Cond{}, ""
			q.Rules = append(q.Rules, r)
		}
	}
	data, err := q.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var out specs.LinuxSeccomp
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("convert seccomp profile to OCI: %w", err)
	}
	return &out, nil
}
