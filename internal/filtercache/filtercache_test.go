package filtercache

import (
	"errors"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/config"
)

// The cache returns what the compiler returned, compiles once per profile,
// and never caches errors or listener filters.
func TestWrap(t *testing.T) {
	dir := t.TempDir() + "/cache"
	calls := 0
	compile := func(s *specs.Spec) ([]config.SockFilter, uint, error) {
		calls++
		if s.Linux.Seccomp != nil && s.Linux.Seccomp.DefaultAction == "bad" {
			return nil, 0, errors.New("bad profile")
		}
		return []config.SockFilter{{Code: 6, K: uint32(calls)}}, 1, nil
	}
	c := Wrap(dir, "opts", compile)
	a := &specs.Spec{Linux: &specs.Linux{}}
	b := &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}}}
	f1, _, _ := c(a)
	f2, fl, _ := c(a)
	if calls != 1 || f1[0] != f2[0] || fl != 1 {
		t.Fatalf("cached call: calls=%d %v %v", calls, f1, f2)
	}
	if f3, _, _ := c(b); calls != 2 || f3[0].K != 2 {
		t.Fatalf("a different profile must compile: calls=%d", calls)
	}
	bad := &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{DefaultAction: "bad"}}}
	for i := 0; i < 2; i++ {
		if _, _, err := c(bad); err == nil {
			t.Fatal("error not returned")
		}
	}
	if calls != 4 {
		t.Fatalf("errors must not be cached: calls=%d", calls)
	}
	lis := &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{ListenerPath: "/x"}}}
	c(lis)
	c(lis)
	if calls != 6 {
		t.Fatalf("listener filters must not be cached: calls=%d", calls)
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir: %v %v", st, err)
	}
}
