package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/testutil"
)

// trustbox seccomp end to end through the built binary: lint exit status,
// explain, show, record (learning mode) then generate from the recording.
func TestSeccompCommand(t *testing.T) {
	testutil.RequiresRoot(t)
	bin := testutil.TrustboxBinary(t)
	bb := testutil.RequiresBinary(t, "busybox")
	dir := t.TempDir()
	docker := filepath.Join(testutil.RepoRoot(), "internal/seccomp/testdata/docker-default.json")
	learned := filepath.Join(dir, "learned.json")
	generated := filepath.Join(dir, "gen.json")
	cases := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"seccomp", "lint", "default"}, 0, ""},
		{[]string{"seccomp", "lint", docker}, 1, "R-LSM-e  syscalls[1] ptrace"},
		{[]string{"seccomp", "lint", "--format", "json", docker}, 1, `"requirement": "R-LSM-e"`},
		{[]string{"seccomp", "explain", "strict"}, 0, "ret SCMP_ACT_KILL_PROCESS"},
		{[]string{"seccomp", "explain", docker}, 1, "R-LSM-e forbids it"},
		{[]string{"seccomp", "explain", "--allow-ptrace", docker}, 0, "explicit override of R-LSM-e"},
		{[]string{"seccomp", "show", "--oci", "--caps", "CAP_SYS_ADMIN", docker}, 0, `"architectures"`},
		{[]string{"seccomp", "record", "-o", learned, "--", bb, "sh", "-c", "ls / >/dev/null"}, 0, ""},
		{[]string{"seccomp", "generate", "--template", "batch", "-o", generated, learned}, 0, "getdents64"},
		{[]string{"seccomp", "lint", generated}, 0, ""},
		{[]string{"seccomp", "frobnicate"}, 1, `unknown subcommand \"frobnicate\"`},
	}
	for _, c := range cases {
		cmd := exec.Command(bin, c.args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.wantCode || !strings.Contains(out.String(), c.wantOut) {
			t.Errorf("trustbox %s: exit %d, want %d with %q; output:\n%.2000s", strings.Join(c.args, " "), code, c.wantCode, c.wantOut, out.String())
		}
	}
	data, err := os.ReadFile(learned)
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ Syscalls []struct{ Names []string } }
	if err := json.Unmarshal(data, &p); err != nil || !strings.Contains(string(data), "getdents64") {
		t.Errorf("learned profile lacks getdents64 (%v):\n%s", err, data)
	}
}
