package demo

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// manager is a vTPM manager the demo runs for itself (R-TRUST-4's daemon,
// in-process), so the container gets a measured vTPM with no set-up.
type manager struct {
	socket  string
	rootPEM []byte
	kind    string
	stop    func()
}

// startManager starts a manager under dir, or says why it cannot.
func startManager(dir string) (*manager, error) {
	if _, err := exec.LookPath("swtpm"); err != nil {
		return nil, fmt.Errorf("swtpm is not installed (scripts/deps installs it)")
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o711); err != nil { // each swtpm runs as its own uid
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := vtpm.Open(ctx, vtpm.Options{Dir: filepath.Join(dir, "vtpm"), CADir: filepath.Join(dir, "ca"),
		UIDBase: vtpm.DefaultUIDBase, UIDCount: 1 << 16})
	if err != nil {
		cancel()
		return nil, err
	}
	sock := filepath.Join(dir, "run", "vtpmd.sock")
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		cancel()
		m.Close()
		return nil, err
	}
	ln, err := vtpm.Listen(sock)
	if err != nil {
		cancel()
		m.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() { _ = vtpm.Serve(ctx, ln, m); close(done) }()
	root := m.Root()
	return &manager{
		socket:  sock,
		rootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}),
		kind:    root.Kind(),
		stop:    func() { cancel(); <-done; m.Close() },
	}, nil
}

// Attestation is what the demo's verifier concluded.
type Attestation struct {
	Verdict  attestapi.Verdict `json:"verdict"`
	RootKind string            `json:"rootKind"`
	Image    string            `json:"image"`
	Skipped  string            `json:"skipped,omitempty"`
}

// attest asks the manager for evidence bound to a fresh nonce and appraises
// it as a remote verifier would: the image must be the one handed to create.
func (m *manager) attest(id, image string) (*Attestation, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := vtpm.Client{Socket: m.socket}.Attest(ctx, id, nonce)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	policy := &attestapi.Policy{Version: attestapi.PolicyVersion, TrustedRoots: []string{string(m.rootPEM)},
		AllowSoftwareRoot: m.kind == "software", AllowedImageDigests: []string{image}, ContainerID: id,
		RequiredProfile: "trustbox-baseline"}
	v := verifier.Appraise(ev, verifier.Options{Policy: policy, Nonce: nonce})
	return &Attestation{Verdict: v, RootKind: m.kind, Image: image}, nil
}
