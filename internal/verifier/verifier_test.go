package verifier_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/attest"
	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// fixture is one launched, measured, enrolled vTPM.
type fixture struct {
	inst *vtpm.Instance
	root *tpmprov.Root
	log  []byte
	in   attest.Input
}

func launch(t testing.TB) *fixture {
	t.Helper()
	testutil.RequiresBinary(t, "swtpm")
	key := make([]byte, vtpm.KeySize)
	rand.Read(key)
	inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(t.TempDir(), "tpm"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Destroy(context.Background()) })
	root, err := tpmprov.LoadOrCreateSoftwareRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	end, err := tpmprov.Provision(inst, root, "web")
	if err != nil {
		t.Fatal(err)
	}
	akCert, err := attest.Enrol(inst, root, "web", &end.ECC)
	if err != nil {
		t.Fatal(err)
	}
	in := attestapi.MeasureInput{
		Runtime:    attestapi.Runtime{BinarySHA256: "rt1", Version: "0.1.0"},
		OCIConfig:  []byte(`{"ociVersion":"1.2.0"}`),
		Image:      attestapi.Image{RootfsDigest: "sha256:good"},
		Policy:     attestapi.SecurityPolicy{Profile: "default", SeccompSHA256: "sc1"},
		Entrypoint: attestapi.Entrypoint{Argv: []string{"/bin/sh"}},
	}
	counters, err := measure.Counters(inst)
	if err != nil {
		t.Fatal(err)
	}
	events, err := measure.LaunchEvents("web", counters, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := inst.Do(measure.Locality(e.PCR), func(tpm transport.TPM) error { return measure.Extend(tpm, e) }); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{inst: inst, root: root, log: attestapi.EncodeEventLog(events), in: attest.Input{
		ContainerID: "web", EventLog: attestapi.EncodeEventLog(events), AKCert: akCert,
		EKCert: end.ECC.CertDER, Chain: [][]byte{root.Cert.Raw}, RootKind: root.Kind()}}
}

func (f *fixture) evidence(t testing.TB, nonce []byte) *attestapi.Evidence {
	t.Helper()
	in := f.in
	in.Nonce = nonce
	var ev *attestapi.Evidence
	err := f.inst.Do(0, func(tpm transport.TPM) error {
		var err error
		ev, err = attest.Collect(tpm, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through the wire format, as `trustbox verify` does.
	b, _ := json.Marshal(ev)
	back, err := attestapi.DecodeEvidence(b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func policyFor(root *tpmprov.Root) *attestapi.Policy {
	return &attestapi.Policy{
		Version:             attestapi.PolicyVersion,
		TrustedRoots:        []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}))},
		AllowSoftwareRoot:   true,
		AllowedImageDigests: []string{"sha256:good"},
		RequiredProfile:     "default",
	}
}

// Implements R-TRUST-1, R-TRUST-5, R-TRUST-6: good evidence is trusted and
// says its root is software; each kind of bad evidence is refused with a reason.
func TestAppraise(t *testing.T) {
	f := launch(t)
	other, _ := tpmprov.LoadOrCreateSoftwareRoot(t.TempDir())
	nonce := []byte("nonce-0123456789")
	cases := []struct {
		name   string
		mutate func(ev *attestapi.Evidence, p *attestapi.Policy, o *verifier.Options)
		want   string // "" = trusted
	}{
		{"good", func(*attestapi.Evidence, *attestapi.Policy, *verifier.Options) {}, ""},
		{"replayed nonce", func(_ *attestapi.Evidence, _ *attestapi.Policy, o *verifier.Options) {
			o.Nonce = []byte("a fresh nonce")
		}, "nonce mismatch"},
		{"tampered event data", func(ev *attestapi.Evidence, _ *attestapi.Policy, _ *verifier.Options) {
			ev.EventLog = []byte(strings.Replace(string(ev.EventLog), "sha256:good", "sha256:evil", 1))
		}, "tampered event data"},
		{"wrong PCR", func(ev *attestapi.Evidence, _ *attestapi.Policy, _ *verifier.Options) { ev.Quote.PCRs[9][0] ^= 1 }, "wrong PCR"},
		{"tampered quote", func(ev *attestapi.Evidence, _ *attestapi.Policy, _ *verifier.Options) {
			ev.Quote.Attest[len(ev.Quote.Attest)-1] ^= 1
		}, "does not verify"},
		{"untrusted root", func(_ *attestapi.Evidence, p *attestapi.Policy, _ *verifier.Options) {
			p.TrustedRoots = policyFor(other).TrustedRoots
		}, "untrusted root"},
		{"software root not opted in", func(_ *attestapi.Evidence, p *attestapi.Policy, _ *verifier.Options) { p.AllowSoftwareRoot = false }, "software root"},
		{"image not allowed", func(_ *attestapi.Evidence, p *attestapi.Policy, _ *verifier.Options) {
			p.AllowedImageDigests = []string{"sha256:other"}
		}, "allowed_image_digests"},
		{"profile required", func(_ *attestapi.Evidence, p *attestapi.Policy, _ *verifier.Options) { p.RequiredProfile = "strict" }, "required"},
		{"other container", func(ev *attestapi.Evidence, _ *attestapi.Policy, _ *verifier.Options) { ev.ContainerID = "db" }, "issued for container"},
		{"AK from elsewhere", func(ev *attestapi.Evidence, _ *attestapi.Policy, _ *verifier.Options) { ev.AKCert = ev.EKCert }, "AK"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := f.evidence(t, nonce)
			p := policyFor(f.root)
			o := verifier.Options{Policy: p, Nonce: nonce}
			c.mutate(ev, p, &o)
			v := verifier.Appraise(ev, o)
			if c.want == "" {
				if !v.Trusted || v.RootKind != "software" || v.Image != "sha256:good" {
					t.Fatalf("good evidence: %+v", v)
				}
				return
			}
			if v.Trusted || !strings.Contains(strings.Join(v.Reasons, "; "), c.want) {
				t.Fatalf("verdict %+v, want a refusal mentioning %q", v, c.want)
			}
		})
	}
}

// A nonce store refuses the second use of a nonce.
func TestAppraiseRefusesReusedNonce(t *testing.T) {
	f := launch(t)
	nonce := []byte("once-only-nonce")
	stores := map[string]verifier.NonceStore{
		"memory": &verifier.MemoryNonces{},
		"file":   verifier.FileNonces{Path: filepath.Join(t.TempDir(), "seen")},
	}
	for name, seen := range stores {
		for i, want := range []bool{true, false} {
			v := verifier.Appraise(f.evidence(t, nonce), verifier.Options{Policy: policyFor(f.root), Nonce: nonce, Seen: seen})
			if v.Trusted != want {
				t.Fatalf("%s store, use %d: trusted=%v reasons=%v", name, i+1, v.Trusted, v.Reasons)
			}
			if !want && !strings.Contains(strings.Join(v.Reasons, ";"), "replayed nonce") {
				t.Errorf("%s store: reasons %v, want replayed nonce", name, v.Reasons)
			}
		}
	}
}
