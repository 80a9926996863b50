package seccomp

import (
	"os"
	"strings"
	"testing"
)

// Bad profiles are refused with a message naming the rule and the problem.
func TestParseErrors(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"no default", `{"syscalls":[]}`, "defaultAction is missing"},
		{"bad default", `{"defaultAction":"SCMP_ACT_NOPE"}`, `unknown action "SCMP_ACT_NOPE"`},
		{"unknown field", `{"defaultAction":"SCMP_ACT_ALLOW","sycalls":[]}`, `unknown field "sycalls"`},
		{"unknown call", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","raed"],"action":"SCMP_ACT_ALLOW"}]}`, `syscalls[0] (read,raed): names[1]: unknown system call "raed"`},
		{"bad op", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_LIKE"}]}]}`, `syscalls[0] (socket): args[0]: unknown operator "SCMP_CMP_LIKE"`},
		{"bad index", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, "index 6, want 0..5"},
		{"errno too big", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5000}]}`, "errnoRet 5000"},
		{"errno on allow", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}`, "takes no value"},
		{"bad arch", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_Z80"]}`, `unknown architecture "SCMP_ARCH_Z80"`},
		{"bad flag", `{"defaultAction":"SCMP_ACT_ERRNO","flags":["SECCOMP_FILTER_FLAG_FAST"]}`, `unknown flag "SECCOMP_FILTER_FLAG_FAST"`},
		{"eq twice", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]}]}`, "contradictory"},
		{"masked never", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"valueTwo":2,"op":"SCMP_CMP_MASKED_EQ"}]}]}`, "never matches"},
		{"bad minKernel", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"six"}}]}`, `kernel version "six"`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", c.name, err, c.want)
		}
	}
}

// Contradictions that only show after resolution are refused by Compile.
func TestCompileContradictions(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"dead arg rule", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_LOG","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},{"names":["socket"],"action":"SCMP_ACT_ALLOW"}]}`, "syscalls[1] gives socket on SCMP_ARCH_X86_64 one action for all arguments, so the argument rule syscalls[0]"},
		{"same args", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_LOG","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, "the same argument checks but contradictory actions"},
	}
	for _, c := range cases {
		p, err := Parse([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, err = Compile(p, Options{Env: Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", c.name, err, c.want)
		}
	}
}

// FuzzParse: any input either fails to parse with an error, or parses into
// a profile that compiles or is refused with an error, and whatever compiles
// passes the kernel's load-time checks. Never a panic.
func FuzzParse(f *testing.F) {
	data, _ := os.ReadFile("testdata/docker-default.json")
	f.Add(data)
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_KILL_PROCESS","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X32"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":2,"value":4294967296,"op":"SCMP_CMP_GE"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		prog, err := Compile(p, Options{Env: Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"}, Ptrace: PtraceAllow})
		if err != nil {
			return
		}
		if err := checkProgram(prog); err != nil {
			t.Fatal(err)
		}
	})
}
