package seccomp

import (
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/seccomp/bpfsim"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The runtime hook: no linux.seccomp gives the built-in default; Docker's
// profile is refused for ptrace unless denied or overridden, and either
// decision reaches the log (R-LSM-e).
func TestSpecCompiler(t *testing.T) {
	docker, err := loadProfile(t, "testdata/docker-default.json").ToOCI(Env{Caps: []string{"CAP_CHOWN"}})
	if err != nil {
		t.Fatal(err)
	}
	withDocker := &specs.Spec{Linux: &specs.Linux{Seccomp: docker}, Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}}}}
	cases := []struct {
		name      string
		spec      *specs.Spec
		o         SpecOptions
		wantErr   string
		wantNote  string
		wantEmpty bool
	}{
		{"no profile, default on", &specs.Spec{}, SpecOptions{Default: "default"}, "", "", false},
		{"no profile, none", &specs.Spec{}, SpecOptions{}, "", "", true},
		{"docker refused", withDocker, SpecOptions{}, "R-LSM-e", "", false},
		{"docker ptrace denied", withDocker, SpecOptions{Ptrace: PtraceDeny}, "", "refused with EPERM", false},
		{"docker override", withDocker, SpecOptions{Ptrace: PtraceAllow}, "", "explicit override", false},
		{"docker with blacklist merged", withDocker, SpecOptions{MergeBlacklist: true}, "", "kills calls the profile allowed: process_vm_readv, process_vm_writev, ptrace", false},
	}
	for _, c := range cases {
		var logged []string
		f, flags, err := SpecCompiler(c.o, func(s string) { logged = append(logged, s) })(c.spec)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: got %v, want error with %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.wantEmpty != (len(f) == 0) {
			t.Errorf("%s: %d instructions", c.name, len(f))
		}
		if len(f) > 0 && flags&1 == 0 {
			t.Errorf("%s: TSYNC not requested", c.name)
		}
		if c.wantNote != "" && !strings.Contains(strings.Join(logged, "\n"), c.wantNote) {
			t.Errorf("%s: log %q lacks %q", c.name, logged, c.wantNote)
		}
	}
}

// Docker's profile resolved to an OCI object, as engines write it into
// config.json, compiles to exactly the program the Docker JSON compiles to.
func TestToOCISameProgram(t *testing.T) {
	docker := loadProfile(t, "testdata/docker-default.json")
	for name, env := range dockerEnvs {
		oci, err := docker.ToOCI(env)
		if err != nil {
			t.Fatal(err)
		}
		p, err := FromOCI(oci)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		opts := Options{Env: env, Ptrace: PtraceAllow}
		a, err1 := Compile(docker, opts)
		b, err2 := Compile(p, opts)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", name, err1, err2)
		}
		if len(a.Filter) != len(b.Filter) {
			t.Fatalf("%s: %d vs %d instructions", name, len(a.Filter), len(b.Filter))
		}
		for i := range a.Filter {
			if a.Filter[i] != b.Filter[i] {
				t.Fatalf("%s: programs differ at %d", name, i)
			}
		}
	}
}

// With the blacklist merged, Docker's profile behaves as written except
// that every blacklisted call kills, on every arch.
func TestMergeBlacklistProved(t *testing.T) {
	docker := loadProfile(t, "testdata/docker-default.json")
	opts := Options{Env: Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18", Caps: []string{"CAP_SYS_ADMIN"}}, MergeBlacklist: true}
	prog, err := Compile(docker, opts)
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := docker.resolve(opts.Env)
	mergeBlacklist(pl, &Program{})
	for _, ap := range pl.arches {
		for _, b := range Blacklist {
			nr, ok := ap.arch.Number(b.Name)
			if !ok {
				continue
			}
			r, err := bpfsim.Run(prog.Filter, bpfsim.Data{Nr: nr, Arch: ap.arch.Audit})
			if err != nil || ActionFromRet(r.Action).Kind != KillProcess {
				t.Errorf("%s %s: %s (%v), want kill", ap.arch.Name, b.Name, ActionFromRet(r.Action), err)
			}
		}
	}
	proveProgramPlan(t, prog, pl, opts)
}
