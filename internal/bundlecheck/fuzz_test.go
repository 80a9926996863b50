package bundlecheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/findings"
)

// FuzzParseConfig feeds arbitrary bytes as config.json through the parser
// and every check (seeds: testdata/fuzz/FuzzParseConfig/, from the corpus).
// No input may crash a check or yield a finding without evidence.
func FuzzParseConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseConfig(data); err != nil {
			return
		}
		file := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := CheckConfig(file, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range rep.Findings {
			if fd.Seen == "" || strings.HasPrefix(fd.Seen, "internal error") {
				t.Fatalf("%s: %q", fd.ID, fd.Seen)
			}
			if fd.Level == findings.Error && fd.ID != "BUNDLE-CONFIG" {
				t.Fatalf("%s: error on a parsed config", fd.ID)
			}
		}
	})
}
