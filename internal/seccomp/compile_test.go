package seccomp

import (
	"os"
	"testing"
)

func loadProfile(t testing.TB, path string) *Profile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var dockerEnvs = map[string]Env{
	"no caps":        {Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"},
	"CAP_SYS_ADMIN":  {Arch: "SCMP_ARCH_X86_64", Kernel: "6.18", Caps: []string{"CAP_SYS_ADMIN"}},
	"old kernel":     {Arch: "SCMP_ARCH_X86_64", Kernel: "4.4"},
	"aarch64 native": {Arch: "SCMP_ARCH_AARCH64", Kernel: "6.18"},
}

// Docker's default profile loads unchanged and the compiled filter decides
// exactly as the profile says for every arch, call number and argument edge
// (R-LSM-d), with every argument-free ALLOW cacheable by the kernel.
func TestDockerProfileProved(t *testing.T) {
	p := loadProfile(t, "testdata/docker-default.json")
	for name, env := range dockerEnvs {
		for _, libseccompUnknown := range []bool{false, true} {
			opts := Options{Env: env, Ptrace: PtraceAllow, DefaultForUnknown: libseccompUnknown}
			st := proveProgram(t, p, opts)
			mean := float64(st.executed) / float64(st.calls)
			t.Logf("%s default-for-unknown=%v: %d allowed calls, %.2f instructions on average, %d at most", name, libseccompUnknown, st.calls, mean, st.maxExec)
		}
	}
}

// Without the override, Docker's profile is refused because it allows
// ptrace (R-LSM-e); PtraceDeny compiles it with ptrace refused.
func TestPtraceRefused(t *testing.T) {
	p := loadProfile(t, "testdata/docker-default.json")
	env := Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"}
	if _, err := Compile(p, Options{Env: env}); err == nil {
		t.Fatal("profile allowing ptrace compiled without override")
	}
	prog, err := Compile(p, Options{Env: env, Ptrace: PtraceDeny})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog.Notes) == 0 {
		t.Error("ptrace denial was not noted for the log")
	}
	proveProgram(t, p, Options{Env: env, Ptrace: PtraceDeny})
}
