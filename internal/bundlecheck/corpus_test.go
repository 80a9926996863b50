package bundlecheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/findings"
)

// TestCorpus lints every bundle under testdata/corpus and compares the
// verdicts with its expected.json (check ID -> level). Adding a case is
// adding a directory.
func TestCorpus(t *testing.T) {
	dirs, err := filepath.Glob("testdata/corpus/*")
	if err != nil || len(dirs) < 10 {
		t.Fatalf("corpus: %v, %d cases", err, len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]findings.Level
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			rep, err := CheckBundle(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]findings.Finding{}
			for _, f := range rep.Findings {
				got[f.ID] = f
				assertComplete(t, f)
			}
			for id, lvl := range want {
				if f, ok := got[id]; !ok || f.Level != lvl {
					t.Errorf("%s = %s (%s), want %s", id, f.Level, f.Seen, lvl)
				}
			}
			wantExit := findings.ExitOK
			for _, l := range want {
				if l == findings.Fail {
					wantExit = findings.ExitFail
				}
			}
			if wantExit == findings.ExitFail && rep.ExitCode() != findings.ExitFail {
				t.Errorf("exit code %d, want %d", rep.ExitCode(), wantExit)
			}
		})
	}
}

func assertComplete(t *testing.T, f findings.Finding) {
	t.Helper()
	if len(f.Requirements) == 0 || f.Seen == "" || f.Title == "" || !strings.HasPrefix(f.Where, "config.json") {
		t.Errorf("%s: incomplete finding %+v", f.ID, f)
	}
	if (f.Level == findings.Fail || f.Level == findings.Warn || f.Level == findings.Error) && f.Fix == "" {
		t.Errorf("%s: %s without a fix", f.ID, f.Level)
	}
}

// A good config passes every check: the lint does not cry wolf.
func TestGoodBundleHasNoComplaint(t *testing.T) {
	rep, err := CheckBundle("testdata/corpus/good-hardened", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != len(Rules()) {
		t.Errorf("%d findings for %d rules", len(rep.Findings), len(Rules()))
	}
	for _, f := range rep.Findings {
		if f.Level != findings.Pass {
			t.Errorf("%s = %s: %s", f.ID, f.Level, f.Seen)
		}
	}
	if rep.ExitCode() != findings.ExitOK {
		t.Errorf("exit %d", rep.ExitCode())
	}
}

func TestCheckConfigAndInputErrors(t *testing.T) {
	rep, err := CheckConfig("testdata/corpus/good-hardened/config.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.ID == "BUNDLE-ROOTFS" && f.Level != findings.NotApplicable {
			t.Errorf("lone config: BUNDLE-ROOTFS = %s", f.Level)
		}
	}
	if _, err := CheckBundle("testdata/corpus/good-hardened/config.json", Options{}); err == nil {
		t.Error("CheckBundle on a file succeeded")
	}
	if _, err := CheckBundle("testdata/no-such-bundle", Options{}); err == nil {
		t.Error("CheckBundle on a missing directory succeeded")
	}
	rep, err = CheckBundle(t.TempDir(), Options{})
	if err != nil || rep.Findings[0].Level != findings.Error || !strings.Contains(rep.Findings[0].Seen, "no config") {
		t.Errorf("empty bundle: %+v, %v", rep.Findings, err)
	}
	huge := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(huge, []byte(`{"ociVersion": "1.0.2", "annotations": {"a": "`+strings.Repeat("x", 4096)+`"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _ = CheckConfig(huge, Options{MaxFileSize: 1024})
	if f := rep.Findings[0]; f.Level != findings.Error || !strings.Contains(f.Seen, "size limit") {
		t.Errorf("huge config: %+v", f)
	}
}

func TestOnlyAndSkip(t *testing.T) {
	rep, _ := CheckBundle("testdata/corpus/privileged", Options{Only: []string{"seccomp"}, Skip: []string{"BUNDLE-SECCOMP-PTRACE"}})
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, " ") != "BUNDLE-SECCOMP BUNDLE-SECCOMP-DANGEROUS BUNDLE-SECCOMP-LINT" {
		t.Errorf("got %v", ids)
	}
	rep, _ = CheckBundle("testdata/corpus/privileged", Options{Only: []string{"R-LSM-e"}})
	for _, f := range rep.Findings {
		if !strings.Contains(strings.Join(f.Requirements, ","), "R-LSM-e") {
			t.Errorf("--only R-LSM-e selected %s", f.ID)
		}
	}
}
