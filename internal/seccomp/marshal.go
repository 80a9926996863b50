package seccomp

import (
	"encoding/json"
	"fmt"
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
