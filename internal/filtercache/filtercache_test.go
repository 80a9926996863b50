package filtercache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
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

func key(t *testing.T, v any) string {
	t.Helper()
	h := sha256.New()
	if !hashValue(h, reflect.ValueOf(v)) {
		t.Fatalf("hashValue refused %T", v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// mutate changes the target-th leaf (string or unsigned number) of v and
// counts the leaves it walks in seen; target -1 only counts. A *uint leaf
// gets a new pointee, so copies that share one stay unchanged.
func mutate(t *testing.T, v reflect.Value, target int, seen *int, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Elem().Kind() == reflect.Uint {
			if *seen == target {
				n := reflect.New(v.Elem().Type())
				n.Elem().SetUint(v.Elem().Uint() + 1)
				v.Set(n)
			}
			*seen++
			return
		}
		mutate(t, v.Elem(), target, seen, path)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			mutate(t, v.Field(i), target, seen, path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			t.Fatalf("%s: the sample leaves it empty; populate it", path)
		}
		mutate(t, v.Index(0), target, seen, path+"[0]")
	case reflect.String:
		if *seen == target {
			v.SetString(v.String() + "x")
		}
		*seen++
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		if *seen == target {
			v.SetUint(v.Uint() + 1)
		}
		*seen++
	default:
		t.Fatalf("%s: kind %s is not exercised by this test", path, v.Kind())
	}
}

// Every leaf of a populated profile, changed alone, changes the key: no
// field the runtime-spec has (or adds) can be left out of it.
func TestKeyCoversEveryField(t *testing.T) {
	sample := func() *specs.LinuxSeccomp {
		one := uint(1)
		return &specs.LinuxSeccomp{
			DefaultAction: specs.ActErrno, DefaultErrnoRet: &one, Architectures: []specs.Arch{specs.ArchX86_64},
			Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG"}, ListenerPath: "/l", ListenerMetadata: "m",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow, ErrnoRet: &one,
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 2, ValueTwo: 3, Op: specs.OpEqualTo}}}},
		}
	}
	want := key(t, sample())
	n := 0
	mutate(t, reflect.ValueOf(sample()), -1, &n, "seccomp")
	if n < 12 {
		t.Fatalf("only %d leaves walked", n)
	}
	for i := 0; i < n; i++ {
		p, seen := sample(), 0
		mutate(t, reflect.ValueOf(p), i, &seen, "seccomp")
		if key(t, p) == want {
			t.Errorf("changing leaf %d of the profile left the cache key unchanged", i)
		}
	}
	// nil and empty differ; so do differently split names.
	if key(t, (*specs.LinuxSeccomp)(nil)) == key(t, &specs.LinuxSeccomp{}) {
		t.Error("nil and empty profiles share a key")
	}
	if key(t, &specs.LinuxSeccomp{Architectures: []specs.Arch{}}) == key(t, &specs.LinuxSeccomp{}) {
		t.Error("nil and empty architecture lists share a key")
	}
	if key(t, &specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{{Names: []string{"ab", "c"}}}}) == key(t, &specs.LinuxSeccomp{Syscalls: []specs.LinuxSyscall{{Names: []string{"a", "bc"}}}}) {
		t.Error("name boundaries are not part of the key")
	}
}

// A damaged cache entry is ignored and recompiled, never installed.
func TestCorruptEntry(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	c := Wrap(dir, "o", func(*specs.Spec) ([]config.SockFilter, uint, error) {
		calls++
		return []config.SockFilter{{Code: 6, K: 0x7fff0000}}, 0, nil
	})
	s := &specs.Spec{Linux: &specs.Linux{}}
	c(s)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("cache entries: %v", ents)
	}
	p := dir + "/" + ents[0].Name()
	for _, bad := range [][]byte{nil, []byte("garbage"), append(append([]byte{}, magic...), 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3)} {
		if err := os.WriteFile(p, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		before := calls
		if f, _, _ := c(s); calls != before+1 || len(f) != 1 || f[0].K != 0x7fff0000 {
			t.Fatalf("corrupt entry %q: calls %d -> %d, filter %v", bad, before, calls, f)
		}
	}
}
