package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/auditlog"
	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/inspect"
	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/internal/policy"
	"github.com/trustbox/trustbox/internal/runtime"
	"github.com/trustbox/trustbox/internal/spec"
)

// Options configure one demo run.
type Options struct {
	Root    string // state root (--root)
	Seccomp func(*specs.Spec) ([]config.SockFilter, uint, error)
	Audit   func(event, id string, fields map[string]any)
	Out     io.Writer
	JSON    bool
}

// Result is what the demo saw.
type Result struct {
	Inspect   inspect.Report    `json:"inspect"`
	Baseline  []policy.Decision `json:"baseline"`
	Attest    *Attestation      `json:"attestation"`
	AuditOK   bool              `json:"auditChainIntact"`
	AuditN    int               `json:"auditEvents"`
	ExitCode  int               `json:"exitCode"`
	Protected bool              `json:"protected"`
}

// Run builds a bundle from the embedded image, runs the inspector in a
// container with the secure defaults, and reports. It fails if any
// forbidden operation succeeded.
func Run(o Options) (*Result, error) {
	dir, err := os.MkdirTemp("", "trustbox-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil { // container root must reach the rootfs
		return nil, err
	}
	if _, err := writeImage(dir); err != nil {
		return nil, err
	}
	s := spec.Default(false, 0, 0)
	s.Process.Terminal = false
	s.Process.Args = []string{"/sbin/inspect"}
	s.Hostname = "trustbox-demo"
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}})
	data, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return nil, err
	}
	// The trust chain: a vTPM from an in-process manager, measured at create.
	var mgr *manager
	var image string
	att := &Attestation{}
	if mgr, err = startManager(filepath.Join(dir, "vtpmd")); err != nil {
		att.Skipped = err.Error()
	} else {
		defer mgr.stop()
		tree, err := measure.TreeSHA256(filepath.Join(dir, "rootfs"))
		if err != nil {
			return nil, err
		}
		image = "sha256:" + tree
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(r); out <- b }()
	rt := &runtime.Runtime{Root: o.Root, Audit: o.Audit}
	id := fmt.Sprintf("trustbox-demo-%d", os.Getpid())
	co := runtime.CreateOptions{ID: id, Bundle: dir, Stdout: w, Stderr: os.Stderr, Stdin: nil, Seccomp: o.Seccomp}
	if mgr != nil {
		co.Vtpm = "unix:" + mgr.socket
	}
	c, err := rt.Create(co)
	w.Close()
	if err != nil {
		return nil, err
	}
	defer rt.Delete(id, true)
	if err := rt.Start(id); err != nil {
		return nil, err
	}
	res := &Result{Baseline: c.Decisions}
	if code, err := c.Wait(); err != nil || code != 0 {
		res.ExitCode = max(code, 1)
	}
	if err := json.Unmarshal(<-out, &res.Inspect); err != nil {
		return nil, fmt.Errorf("demo: the inspector's report is unreadable: %w", err)
	}
	res.Attest = att
	if mgr != nil {
		a, err := mgr.attest(id, image)
		if err != nil {
			return nil, err
		}
		res.Attest = a
	}
	_ = rt.Delete(id, true)
	n, probs, err := auditlog.Open(o.Root).Verify()
	res.AuditN, res.AuditOK = n, err == nil && len(probs) == 0
	res.Protected = res.ExitCode == 0 && res.AuditOK && (res.Attest.Skipped != "" || res.Attest.Verdict.Trusted)
	for _, a := range res.Inspect.Attempts {
		res.Protected = res.Protected && a.Blocked
	}
	return res, nil
}
