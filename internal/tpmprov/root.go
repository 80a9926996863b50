package tpmprov

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Root is the certificate authority that certifies vTPM EKs and AKs.
type Root struct {
	Cert   *x509.Certificate
	signer crypto.Signer
	closer func() error
}

// Kind is "software" or "hardware".
func (r *Root) Kind() string { return RootKind(r.Cert) }

// Close releases the root's key (a TPM handle for a hardware root).
func (r *Root) Close() error {
	if r.closer != nil {
		return r.closer()
	}
	return nil
}

// SoftwareRootSubject is the subject CN of every software root: it says so.
const SoftwareRootSubject = "trustbox SOFTWARE root (no hardware TPM)"

const (
	rootKeyFile  = "root.key"
	rootCertFile = "root.crt"
)

// LoadOrCreateSoftwareRoot loads the software root kept in dir, creating it on
// first use: an ECDSA P-256 key (0600, R-OPS-3) and a self-signed certificate
// whose subject and policy both say "software root" (R-TRUST-6). Verifiers
// must opt in to such a root explicitly.
func LoadOrCreateSoftwareRoot(dir string) (*Root, error) {
	keyPath, certPath := filepath.Join(dir, rootKeyFile), filepath.Join(dir, rootCertFile)
	kb, kerr := os.ReadFile(keyPath)
	cb, cerr := os.ReadFile(certPath)
	if kerr == nil && cerr == nil {
		return parseSoftwareRoot(kb, cb, dir)
	}
	if !errors.Is(kerr, os.ErrNotExist) && kerr != nil {
		return nil, fmt.Errorf("software root in %s: %w", dir, kerr)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("software root dir %s: %w", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("software root key: %w", err)
	}
	tmpl := rootTemplate(SoftwareRootSubject, SoftwareRootPolicy)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("software root certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("software root key: %w", err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return nil, fmt.Errorf("write software root key: %w", err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, fmt.Errorf("write software root certificate: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &Root{Cert: cert, signer: key}, nil
}

func parseSoftwareRoot(kb, cb []byte, dir string) (*Root, error) {
	kp, _ := pem.Decode(kb)
	cp, _ := pem.Decode(cb)
	if kp == nil || cp == nil {
		return nil, fmt.Errorf("software root in %s: key or certificate is not PEM", dir)
	}
	k, err := x509.ParsePKCS8PrivateKey(kp.Bytes)
	if err != nil {
		return nil, fmt.Errorf("software root key in %s: %w", dir, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("software root key in %s is not a signing key", dir)
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, fmt.Errorf("software root certificate in %s: %w", dir, err)
	}
	return &Root{Cert: cert, signer: signer}, nil
}

func rootTemplate(cn string, policy x509.OID) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"trustbox"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		Policies:              []x509.OID{policy},
	}
}
