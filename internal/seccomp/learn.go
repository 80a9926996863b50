package seccomp

import (
	"sort"
	"sync"
	"time"

	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
)

// LearnAlways are the calls a learning filter always lets through, so the
// helper can hand over the listener and execve without a supervisor; every
// recording includes them (they are in R-LSM-d's minimal whitelist anyway).
var LearnAlways = append([]string{"execve"}, Minimal...)

// CompileLearning compiles base with every call outside it notifying the
// supervisor instead of taking the default action (R-LSM-d's trap-and-report
// mode): blacklisted calls still kill, calls the base already allows never
// reach the supervisor, so only calls not seen before cost a round trip.
func CompileLearning(base *Profile, opts Options) (*Program, error) {
	p := *base
	p.DefaultAction = Action{Kind: Notify}
	p.Rules = append(append([]Rule(nil), base.Rules...), Rule{Names: LearnAlways, Action: Action{Kind: Allow}, Index: len(base.Rules), Comment: "learning helper"})
	opts.DefaultForUnknown = true
	return Compile(&p, opts)
}

// Event is one call the learning filter reported (R-OPS-6).
type Event struct {
	Time time.Time `json:"time"`
	Pid  uint32    `json:"pid"`
	Arch string    `json:"arch"`
	Nr   uint32    `json:"nr"`
	Name string    `json:"syscall"`
	New  bool      `json:"new"` // first time this call was seen
}

// Recording collects the calls a workload made outside its base profile.
type Recording struct {
	mu    sync.Mutex
	calls map[string]map[string]int // arch -> call -> count
	// OnEvent, if set, sees every reported call (for the audit log).
	OnEvent func(Event)
}

// NewRecording returns an empty recording.
func NewRecording() *Recording { return &Recording{calls: map[string]map[string]int{}} }

func (r *Recording) add(pid, audit, nr uint32) {
	arch, name := callIdentity(audit, nr)
	r.mu.Lock()
	m := r.calls[arch]
	if m == nil {
		m = map[string]int{}
		r.calls[arch] = m
	}
	m[name]++
	isNew := m[name] == 1
	r.mu.Unlock()
	if r.OnEvent != nil {
		r.OnEvent(Event{Time: time.Now(), Pid: pid, Arch: arch, Nr: nr, Name: name, New: isNew})
	}
}

func callIdentity(audit, nr uint32) (string, string) {
	for _, n := range syscalls.Arches() {
		a, _ := syscalls.LookupArch(n)
		if a.Audit != audit || (nr >= syscalls.X32Bit) != (a.NrBase != 0) {
			continue
		}
		if name, ok := a.CallName(nr); ok {
			return a.Name, name
		}
		return a.Name, ""
	}
	return "", ""
}

// Calls returns the names recorded on any architecture, sorted, with counts.
func (r *Recording) Calls() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, m := range r.calls {
		for n, c := range m {
			if n != "" {
				out[n] += c
			}
		}
	}
	return out
}

// Profile turns the recording into a whitelist profile in Docker's format:
// the base's rules, the recorded calls allowed, the learning helper's calls,
// and base's default action (R-LSM-c: the blacklist is kept).
func (r *Recording) Profile(base *Profile) *Profile {
	p := *base
	p.Rules = append([]Rule(nil), base.Rules...)
	allowed := allowedByBase(base)
	var names []string
	for n := range r.Calls() {
		if !allowed[n] {
			names = append(names, n)
		}
	}
	for _, n := range LearnAlways {
		if !allowed[n] && !contains(names, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		p.Rules = append(p.Rules, Rule{Names: names, Action: Action{Kind: Allow}, Comment: "recorded by trustbox seccomp learning"})
	}
	return numbered(&p)
}

func allowedByBase(p *Profile) map[string]bool {
	m := map[string]bool{}
	for _, r := range p.Rules {
		if r.Action.Permits() && len(r.Args) == 0 {
			for _, n := range r.Names {
				m[n] = true
			}
		}
	}
	return m
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
