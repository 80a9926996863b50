package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/bundlecheck"
	"github.com/trustbox/trustbox/internal/hostaudit"
	"github.com/trustbox/trustbox/internal/testutil"
)

func runCheckCLI(t *testing.T, args ...string) (string, int, error) {
	t.Helper()
	var out bytes.Buffer
	g := &Global{Stdout: &out, Stderr: &out, Root: "/run/trustbox"}
	err := dispatch(g, append([]string{"check"}, args...))
	var ee *exitError
	if errors.As(err, &ee) {
		return out.String(), ee.code, nil
	}
	return out.String(), 0, err
}

const corpus = "../bundlecheck/testdata/corpus/"

// `trustbox check` takes its flags before or after the subcommand and its
// argument, and exits 3 on a fail finding, 4 on an undecided one, so a
// pipeline can gate on it.
func TestCheckCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"good bundle", []string{"bundle", corpus + "good-hardened"}, 0, "score 100%"},
		{"flags after the argument", []string{"bundle", corpus + "privileged", "--format", "json"}, 3, `"schemaVersion": 1`},
		{"flags before the subcommand", []string{"--format=sarif", "config", corpus + "privileged/config.json"}, 3, `"version": "2.1.0"`},
		{"only by requirement", []string{"config", corpus + "seccomp-ptrace-allowed/config.json", "--only", "R-LSM-e"}, 3, "BUNDLE-SECCOMP-PTRACE"},
		{"skip the failing check", []string{"config", corpus + "seccomp-ptrace-allowed/config.json", "--only", "R-LSM-e", "--skip", "BUNDLE-SECCOMP-PTRACE,BUNDLE-SECCOMP-LINT"}, 0, "score 100% (0/0"},
		{"malformed config", []string{"bundle", corpus + "malformed-binary"}, 4, "ERROR BUNDLE-CONFIG"},
		{"fixture host", []string{"host", "--host-root", "../hostaudit/testdata/hosts/hardened", "--only", "hardening"}, 0, "HARDEN-ASLR"},
		{"fixture host failing", []string{"host", "--host-root", "../hostaudit/testdata/hosts/selinux", "--only", "ACCOUNT-UID0"}, 3, "toor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, err := runCheckCLI(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s", code, tt.code, tt.want, out)
			}
		})
	}
}

func TestCheckUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bundle"}, {"host", "extra"}, {"nonsense"}, {"config", "/no/such/file", "--format", "yaml"}, {"host", "--host-root", "/no/such/root"}, {"host", "--bogus"}} {
		if _, code, err := runCheckCLI(t, args...); err == nil && code == 0 {
			t.Errorf("check %q succeeded", args)
		}
	}
}

// The live host through the CLI: a JSON report whose exit status agrees
// with its own summary.
func TestCheckHostLive(t *testing.T) {
	testutil.RequiresRoot(t)
	out, code, err := runCheckCLI(t, "host", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Summary struct{ ExitCode int } }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.ExitCode != code {
		t.Errorf("exit %d, summary says %d", code, doc.Summary.ExitCode)
	}
}

// docs/check.md lists every check ID with the requirements it serves.
func TestCheckDocsListEveryRule(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "docs", "check.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	seen := map[string]bool{}
	for _, r := range append(hostaudit.Rules(), bundlecheck.Rules()...) {
		if seen[r.ID] {
			t.Errorf("duplicate check ID %s", r.ID)
		}
		seen[r.ID] = true
		row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(r.ID) + "` \\|.*$").FindString(doc)
		if row == "" {
			t.Errorf("docs/check.md has no row for %s", r.ID)
			continue
		}
		for _, req := range r.Requirements {
			if !strings.Contains(row, req) {
				t.Errorf("docs/check.md row for %s lacks %s", r.ID, req)
			}
		}
	}
}

// Every requirement a check cites exists in the requirements catalogue.
func TestCheckRequirementsExist(t *testing.T) {
	cat, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "..", "shared", "requirements.md"))
	if err != nil {
		t.Skipf("requirements catalogue not beside the repository: %v", err)
	}
	for _, r := range append(hostaudit.Rules(), bundlecheck.Rules()...) {
		for _, req := range r.Requirements {
			if !strings.Contains(string(cat), "**"+req) {
				t.Errorf("%s cites %s, which requirements.md does not define", r.ID, req)
			}
		}
	}
}
