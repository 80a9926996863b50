package seccomp

import (
	"strings"
	"testing"
)

// Explain names the loaded fields, the arch sections and the calls at each
// dispatch boundary, for the right architecture.
func TestExplain(t *testing.T) {
	p, _ := Builtin("default")
	prog, err := Compile(p, Options{Env: Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Explain(&b, prog.Filter); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"ld  arch", "; x86_64/x32", "; x86\n", "ld  nr", "ret SCMP_ACT_KILL_PROCESS", "ld  args[0].lo", "ret SCMP_ACT_ERRNO(1)"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q", want)
		}
	}
	if strings.Count(out, "\n") != len(prog.Filter) {
		t.Errorf("explain printed %d lines for %d instructions", strings.Count(out, "\n"), len(prog.Filter))
	}
	if strings.Contains(out[:strings.Index(out, "ja ")], "bdflush") {
		t.Error("x86_64 section annotated with an i386 call name")
	}
}
