package vtpm

import (
	"regexp"
	"strings"
	"testing"
)

var idGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"a", "a-b", "a+b", "_a", strings.Repeat("z", 128), strings.Repeat("z", 129), "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validID(id), idGrammar.MatchString(id); got != want {
			t.Fatalf("validID(%q) = %v, the grammar says %v", id, got, want)
		}
	})
}
