package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/spec"
	"github.com/trustbox/trustbox/internal/testutil"
)

// env is one test's trustbox: its own state root.
type env struct {
	t      *testing.T
	bin    string
	root   string
	before map[string]bool // e2e cgroups that existed before the test (another test's leak)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testutil.RequiresRoot(t)
	e := &env{t: t, bin: testutil.TrustboxBinary(t), root: t.TempDir(), before: map[string]bool{}}
	for _, c := range e2eCgroups() {
		e.before[c] = true
	}
	t.Cleanup(func() { e.assertNoLeaks() })
	return e
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs trustbox with the env's --root.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runIn("", nil, args...)
}

func (e *env) runIn(dir string, stdin []byte, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(e.bin, append([]string{"--root", e.root}, args...)...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	// Files, not pipes: a detached container inherits stdio and would hold a pipe open.
	out, errb := tempFile(e.t), tempFile(e.t)
	cmd.Stdout, cmd.Stderr = out, errb
	err := startTracked(cmd)
	if err == nil {
		err = waitTracked(cmd)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("trustbox %v: %v", args, err)
	}
	return result{readAll(e.t, out), readAll(e.t, errb), code}
}

func tempFile(t *testing.T) *os.File {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readAll(t *testing.T, f *os.File) string {
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// must runs trustbox and fails the test on a non-zero exit.
func (e *env) must(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("trustbox %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// bundle makes a busybox bundle from trustbox's secure default spec, running args.
func (e *env) bundle(args []string, mutate ...func(*specs.Spec)) string {
	e.t.Helper()
	dir := testutil.BusyboxRootfs(e.t)
	s := spec.Default(false, 0, 0)
	s.Process.Terminal = false
	s.Process.Args = args
	for _, m := range mutate {
		m(s)
	}
	writeSpec(e.t, dir, s)
	return dir
}

func writeSpec(t *testing.T, dir string, s *specs.Spec) {
	t.Helper()
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertNoLeaks checks that no container state, cgroup or process is left.
func (e *env) assertNoLeaks() {
	t := e.t
	ents, _ := os.ReadDir(e.root)
	for _, en := range ents {
		if en.IsDir() && !strings.HasPrefix(en.Name(), ".") {
			t.Errorf("leaked container state: %s", filepath.Join(e.root, en.Name()))
		}
	}
	for _, c := range e2eCgroups() {
		if !e.before[c] {
			t.Errorf("leaked cgroup: %s", c)
		}
	}
}

func e2eCgroups() []string {
	var out []string
	for _, ctrl := range []string{"pids", "memory", "unified"} {
		dir := filepath.Join("/sys/fs/cgroup", ctrl, "trustbox")
		subs, _ := os.ReadDir(dir)
		for _, s := range subs {
			if s.IsDir() && strings.HasPrefix(s.Name(), "e2e-") {
				out = append(out, filepath.Join(dir, s.Name()))
			}
		}
	}
	return out
}

// readSpec reads a bundle's config.json back.
func readSpec(t *testing.T, dir string) *specs.Spec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}
