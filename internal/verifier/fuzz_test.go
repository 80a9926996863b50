package verifier_test

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// FuzzAppraise feeds arbitrary evidence documents through every evidence
// parser (JSON, certificates, TPMT_PUBLIC, TPMT_SIGNATURE, TPMS_ATTEST, event
// log); the policy trusts whatever root the evidence carries, to reach them all.
func FuzzAppraise(f *testing.F) {
	f.Add([]byte(`{"version":"trustbox.dev/evidence/v1"}`), []byte("n"))
	f.Fuzz(func(t *testing.T, doc, nonce []byte) {
		ev, err := attestapi.DecodeEvidence(doc)
		if err != nil {
			return
		}
		p := &attestapi.Policy{Version: attestapi.PolicyVersion, AllowSoftwareRoot: true}
		if n := len(ev.Chain); n > 0 {
			p.TrustedRoots = []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ev.Chain[n-1]}))}
		}
		done := make(chan attestapi.Verdict, 1)
		go func() { done <- verifier.Appraise(ev, verifier.Options{Policy: p, Nonce: nonce}) }()
		var v attestapi.Verdict
		select {
		case v = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Appraise did not return within 5s on %q", doc)
		}
		if v.Trusted && len(v.Reasons) > 0 {
			t.Fatalf("trusted verdict with reasons %v", v.Reasons)
		}
	})
}

// TestWriteFuzzSeeds regenerates the FuzzAppraise seed from a real launch
// when TRUSTBOX_WRITE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("TRUSTBOX_WRITE_SEEDS") == "" {
		t.Skip("set TRUSTBOX_WRITE_SEEDS=1 to regenerate fuzz seeds")
	}
	f := launch(t)
	nonce := []byte("seed-nonce")
	b, _ := json.Marshal(f.evidence(t, nonce))
	dir := filepath.Join("testdata", "fuzz", "FuzzAppraise")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "real-evidence"), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\n", b, nonce)), 0o644)
}
