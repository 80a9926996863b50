package seccomp

import (
	"strings"
	"testing"
)

// Generate merges recordings with a template, keeps the blacklist and the
// argument rules, explains each call, and its output compiles without the
// ptrace override (R-LSM-c, R-LSM-e).
func TestGenerate(t *testing.T) {
	rec, _ := Parse([]byte(`{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["read","write","mount","clone","getdents64"],"action":"SCMP_ACT_ALLOW"}]}`))
	p, adds, err := Generate([]Recorded{{"run1.json", rec}}, "web-server", false)
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, a := range adds {
		text += a.String() + "\n"
	}
	for _, want := range []string{
		"mount                  dropped        blacklisted",
		"clone                  argument rule",
		"getdents64             run1.json      used in the recorded run",
		"accept4                template web-server accept connections",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	st := proveProgram(t, p, Options{Env: Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"}})
	if st.calls == 0 {
		t.Error("generated profile allows nothing")
	}
	for _, f := range Lint(p) {
		if f.Severity == "error" {
			t.Errorf("generated profile has lint error: %s", f)
		}
	}
	if _, _, err := Generate(nil, "spaceship", false); err == nil {
		t.Error("unknown template accepted")
	}
}
