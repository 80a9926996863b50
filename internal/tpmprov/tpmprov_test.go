package tpmprov_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/internal/vtpm"
)

func newTPM(t *testing.T) *vtpm.Instance {
	t.Helper()
	testutil.RequiresBinary(t, "swtpm")
	key := make([]byte, vtpm.KeySize)
	rand.Read(key)
	inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(t.TempDir(), "tpm"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Destroy(context.Background()) })
	return inst
}

func verifyChain(t *testing.T, root *tpmprov.Root, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root.Cert)
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("certificate %q does not chain to the root: %v", c.Subject.CommonName, err)
	}
	return c
}

// Implements R-TRUST-6: each vTPM has its own EKs, certified by a software
// root that says so in its subject and in a policy, on every certificate.
func TestProvisionSoftwareRoot(t *testing.T) {
	dir := t.TempDir()
	root, err := tpmprov.LoadOrCreateSoftwareRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "root.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("root key mode %o, want 0600 (R-OPS-3)", fi.Mode().Perm())
	}
	if !strings.Contains(root.Cert.Subject.CommonName, "SOFTWARE") || root.Kind() != "software" {
		t.Errorf("software root does not say so: subject %q kind %q", root.Cert.Subject, root.Kind())
	}
	tpm := newTPM(t)
	end, err := tpmprov.Provision(tpm, root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := tpmprov.ReadEndorsement(tpm)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]tpmprov.EK{{end.RSA, again.RSA}, {end.ECC, again.ECC}} {
		ek, back := pair[0], pair[1]
		if !bytes.Equal(ek.CertDER, back.CertDER) {
			t.Errorf("%s EK certificate read from NV 0x%08x differs from the one written", ek.Kind, uint32(ek.Index))
		}
		c := verifyChain(t, root, back.CertDER)
		if tpmprov.RootKind(c) != "software" || tpmprov.VTPMOf(c) != "c1" {
			t.Errorf("%s EK cert: kind %q vTPM %q", ek.Kind, tpmprov.RootKind(c), tpmprov.VTPMOf(c))
		}
		pub, _ := back.PublicKey()
		if want, _ := x509.MarshalPKIXPublicKey(pub); !bytes.Equal(want, mustPKIX(t, c.PublicKey)) {
			t.Errorf("%s EK cert does not certify the persisted EK", ek.Kind)
		}
	}
	// Reloading keeps the same root; re-provisioning is a no-op.
	root2, err := tpmprov.LoadOrCreateSoftwareRoot(dir)
	if err != nil || !root2.Cert.Equal(root.Cert) {
		t.Fatalf("reloaded root differs: %v", err)
	}
	end2, err := tpmprov.Provision(tpm, root2, "c1")
	if err != nil || !bytes.Equal(end2.RSA.CertDER, end.RSA.CertDER) {
		t.Fatalf("second Provision changed the EK certificate: %v", err)
	}
}

func mustPKIX(t *testing.T, pub any) []byte {
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The EK certificate index is write-locked and platform-owned: the owner
// cannot overwrite or delete it.
func TestEKCertIndexIsLocked(t *testing.T) {
	root, err := tpmprov.LoadOrCreateSoftwareRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tpm := newTPM(t)
	if _, err := tpmprov.Provision(tpm, root, "c1"); err != nil {
		t.Fatal(err)
	}
	rp, err := tpm2.NVReadPublic{NVIndex: tpmprov.RSAEKCertIndex}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	nv := tpm2.NamedHandle{Handle: tpmprov.RSAEKCertIndex, Name: rp.NVName}
	owner := tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
	platform := tpm2.AuthHandle{Handle: tpm2.TPMRHPlatform, Auth: tpm2.PasswordAuth(nil)}
	cases := []struct {
		name string
		run  func() error
	}{
		{"owner write", func() error {
			_, err := tpm2.NVWrite{AuthHandle: owner, NVIndex: nv, Data: tpm2.TPM2BMaxNVBuffer{Buffer: []byte("x")}}.Execute(tpm)
			return err
		}},
		{"platform write after lock", func() error {
			_, err := tpm2.NVWrite{AuthHandle: platform, NVIndex: nv, Data: tpm2.TPM2BMaxNVBuffer{Buffer: []byte("x")}}.Execute(tpm)
			return err
		}},
		{"owner undefine", func() error {
			_, err := tpm2.NVUndefineSpace{AuthHandle: owner, NVIndex: nv}.Execute(tpm)
			return err
		}},
	}
	for _, c := range cases {
		if err := c.run(); err == nil {
			t.Errorf("%s of the EK certificate index succeeded", c.name)
		}
	}
}

// The hardware-root path, with a second swtpm standing in as the host TPM,
// through the same code a real host TPM uses (R-TRUST-6).
func TestProvisionHardwareRoot(t *testing.T) {
	host := newTPM(t)
	maker, err := tpmprov.LoadOrCreateSoftwareRoot(t.TempDir()) // plays the TPM vendor
	if err != nil {
		t.Fatal(err)
	}
	hostEnd, err := tpmprov.Provision(host, maker, "host")
	if err != nil {
		t.Fatal(err)
	}
	root, err := tpmprov.OpenTPMRoot(host, &hostEnd.RSA.Public)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if root.Kind() != "hardware" {
		t.Fatalf("root kind %q, want hardware", root.Kind())
	}
	sum := sha256.Sum256(tpm2.Marshal(&hostEnd.RSA.Public))
	if got := tpmprov.HostEKOf(root.Cert); got != hex.EncodeToString(sum[:]) {
		t.Errorf("root certificate binds host EK %q, want %x", got, sum)
	}
	vt := newTPM(t)
	end, err := tpmprov.Provision(vt, root, "c2")
	if err != nil {
		t.Fatal(err)
	}
	c := verifyChain(t, root, end.ECC.CertDER)
	if tpmprov.RootKind(c) != "hardware" {
		t.Errorf("EK cert issued by the host TPM root says %q", tpmprov.RootKind(c))
	}
	// The same template re-derives the same key: a restarted manager gets the same root key.
	root2, err := tpmprov.OpenTPMRoot(host, &hostEnd.RSA.Public)
	if err != nil {
		t.Fatal(err)
	}
	defer root2.Close()
	if !bytes.Equal(mustPKIX(t, root2.Cert.PublicKey), mustPKIX(t, root.Cert.PublicKey)) {
		t.Error("host TPM root key changed between two opens")
	}
}
