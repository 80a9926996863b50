package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/seccomp/bpfsim"
)

// Podman's resolved profile allows setns and later denies it (the
// not-CAP_SYS_ADMIN rule): as libseccomp, the first unconditional rule wins,
// so Podman's containers behave the same under trustbox as under runc.
func TestDuplicateUnconditionalRuleFirstWins(t *testing.T) {
	for _, tc := range []struct {
		json string
		want uint32
	}{
		{`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["setns"],"action":"SCMP_ACT_ALLOW"},{"names":["setns"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}`, bpfsim.RetAllow},
		{`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["setns"],"action":"SCMP_ACT_ERRNO","errnoRet":1},{"names":["setns"],"action":"SCMP_ACT_ALLOW"}]}`, unix.SECCOMP_RET_ERRNO | 1},
	} {
		p, err := Parse([]byte(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		prog, err := Compile(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := bpfsim.Run(prog.Filter, bpfsim.Data{Nr: unix.SYS_SETNS, Arch: unix.AUDIT_ARCH_X86_64})
		if err != nil {
			t.Fatal(err)
		}
		if res.Action != tc.want {
			t.Errorf("setns -> %#x, want %#x", res.Action, tc.want)
		}
	}
}
