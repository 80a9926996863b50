package seccomp

import "testing"

// BenchmarkCompileDocker is what container creation pays to compile
// Docker's profile (the runtime compiles once per container).
func BenchmarkCompileDocker(b *testing.B) {
	p := loadProfile(b, "testdata/docker-default.json")
	opts := Options{Env: Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"}, Ptrace: PtraceAllow}
	for b.Loop() {
		if _, err := Compile(p, opts); err != nil {
			b.Fatal(err)
		}
	}
}
