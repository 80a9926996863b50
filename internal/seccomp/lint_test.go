package seccomp

import (
	"strings"
	"testing"
)

func lintText(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// Lint names each problem with the requirement it breaks.
func TestLint(t *testing.T) {
	cases := []struct {
		name, json string
		want       []string
		clean      bool
	}{
		{"blacklist only", `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["reboot"],"action":"SCMP_ACT_KILL"}]}`,
			[]string{"error   R-LSM-d  profile: default action SCMP_ACT_ALLOW", "error   R-LSM-e  profile ptrace: ptrace falls to the allowing default"}, false},
		{"ptrace and blacklisted", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ptrace","mount"],"action":"SCMP_ACT_ALLOW"}]}`,
			[]string{"error   R-LSM-e  syscalls[0] ptrace: ptrace is allowed", "warning R-LSM-c  syscalls[0] mount: blacklisted call allowed"}, false},
		{"shadowed", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}`,
			[]string{"warning R-LSM-h  syscalls[1] read: shadowed by syscalls[0]"}, false},
		{"unchecked args", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["clone","socket","personality","clone3"],"action":"SCMP_ACT_ALLOW"}]}`,
			[]string{"syscalls[0] clone: allowed without argument checks", "syscalls[0] socket: allowed without argument checks", "syscalls[0] personality: allowed without argument checks", "syscalls[0] clone3: allowed, but its flags"}, false},
		{"int truncation", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":40,"op":"SCMP_CMP_GT"}]}]}`,
			[]string{"warning R-LSM-d  syscalls[0] socket: SCMP_CMP_GT on int argument 0 compares 64 bits"}, false},
		{"default profile", "", nil, true},
	}
	for _, c := range cases {
		var p *Profile
		var err error
		if c.json == "" {
			p, err = Builtin("default")
		} else {
			p, err = Parse([]byte(c.json))
		}
		if err != nil {
			t.Fatal(err)
		}
		got := lintText(Lint(p))
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: findings lack %q:\n%s", c.name, w, got)
			}
		}
		if c.clean && strings.Contains(got, "error") || c.clean && strings.Contains(got, "warning") {
			t.Errorf("%s: expected no errors or warnings:\n%s", c.name, got)
		}
	}
}

// Docker's default profile: lint reports its ptrace allowance and its
// 64-bit socket family checks, which high bits bypass.
func TestLintDocker(t *testing.T) {
	got := lintText(Lint(loadProfile(t, "testdata/docker-default.json")))
	for _, w := range []string{
		"error   R-LSM-e  syscalls[1] ptrace: ptrace is allowed (from kernel 4.8)",
		"syscalls[4] socket: SCMP_CMP_GT on int argument 0",
		"syscalls[17] bpf: blacklisted call allowed (with CAP_SYS_ADMIN)",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("findings lack %q:\n%s", w, got)
		}
	}
}
