package vtpm_test

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// hostRoot starts a swtpm standing in for the host TPM, gives it an EK
// certified by a stand-in vendor, and opens the host-TPM root on it.
func hostRoot(t *testing.T) *tpmprov.Root {
	testutil.RequiresBinary(t, "swtpm")
	key := make([]byte, vtpm.KeySize)
	rand.Read(key)
	host, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(t.TempDir(), "host"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Destroy(context.Background()) })
	vendor, _ := tpmprov.LoadOrCreateSoftwareRoot(t.TempDir())
	if _, err := tpmprov.Provision(host, vendor, "host"); err != nil {
		t.Fatal(err)
	}
	ek, err := tpmprov.HostEKPublic(host)
	if err != nil {
		t.Fatal(err)
	}
	root, err := tpmprov.OpenTPMRoot(host, ek)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// Implements R-TRUST-6 and R-TRUST-1: with a host TPM, vTPM EKs are
// certified by a key in it, and evidence carries a host quote over the same
// nonce, which a hardware-only policy requires.
func TestManagerHardwareRoot(t *testing.T) {
	root := hostRoot(t)
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: t.TempDir(), Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer destroyAll(t, m)
	if _, err := m.Create(context.Background(), "hw", request("")); err != nil {
		t.Fatal(err)
	}
	nonce := []byte("hardware-nonce")
	policy := &attestapi.Policy{Version: attestapi.PolicyVersion, RequireHostQuote: true,
		TrustedRoots: []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}))}}
	cases := []struct {
		name   string
		mutate func(*attestapi.Evidence)
		want   string
	}{
		{"good", func(*attestapi.Evidence) {}, ""},
		{"host PCR changed", func(ev *attestapi.Evidence) { ev.HostQuote.PCRs[0][0] ^= 1 }, "host PCR values"},
		{"host quote missing", func(ev *attestapi.Evidence) { ev.HostQuote = nil }, "requires a host quote"},
		{"host AK swapped", func(ev *attestapi.Evidence) { ev.HostAKCert = ev.AKCert }, "host AK"},
	}
	for _, c := range cases {
		ev, err := m.Attest(context.Background(), "hw", nonce)
		if err != nil {
			t.Fatal(err)
		}
		c.mutate(ev)
		v := verifier.Appraise(ev, verifier.Options{Policy: policy, Nonce: nonce})
		if c.want == "" {
			if !v.Trusted || v.RootKind != "hardware" || len(v.HostPCRs) != 8 {
				t.Fatalf("%s: %+v", c.name, v)
			}
			continue
		}
		if v.Trusted || !strings.Contains(strings.Join(v.Reasons, "; "), c.want) {
			t.Errorf("%s: verdict %+v, want a refusal mentioning %q", c.name, v, c.want)
		}
	}
}
