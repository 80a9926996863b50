package runtime

import (
	"regexp"
	"strings"
	"testing"
)

// The documented ID grammar, as a regexp: validID must agree with it.
var idGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$`)

func TestCheckID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"a", true}, {"bench-1-2", true}, {"k8s_pod.a+b", true}, {strings.Repeat("x", 128), true},
		{"", false}, {strings.Repeat("x", 129), false}, {"-a", false}, {".a", false}, {"a/b", false},
		{"a..b", false}, {"../x", false}, {"a b", false}, {"é", false}, {"a\x00", false},
	} {
		if err := CheckID(tc.id); (err == nil) != tc.ok {
			t.Errorf("CheckID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"a", "a-b", "+a", "a+", strings.Repeat("z", 128), strings.Repeat("z", 129), "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validID(id), idGrammar.MatchString(id); got != want {
			t.Fatalf("validID(%q) = %v, the grammar says %v", id, got, want)
		}
	})
}
