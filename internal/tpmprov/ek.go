package tpmprov

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// EK is one endorsement key, persisted at its TCG handle, with its
// certificate in its TCG NV index.
type EK struct {
	Kind    string // "rsa2048" or "ecc-p256"
	Handle  tpm2.TPMHandle
	Index   tpm2.TPMHandle
	Public  tpm2.TPMTPublic
	CertDER []byte
}

// Cert parses the EK certificate.
func (e *EK) Cert() (*x509.Certificate, error) { return x509.ParseCertificate(e.CertDER) }

// Endorsement is a TPM's pair of EKs.
type Endorsement struct{ RSA, ECC EK }

type ekSpec struct {
	kind     string
	template tpm2.TPMTPublic
	handle   tpm2.TPMHandle
	index    tpm2.TPMHandle
}

var ekSpecs = []ekSpec{
	{"rsa2048", tpm2.RSAEKTemplate, RSAEKHandle, RSAEKCertIndex},
	{"ecc-p256", tpm2.ECCEKTemplate, ECCEKHandle, ECCEKCertIndex},
}

// Provision creates the TCG default EKs (RSA-2048 and ECC P-256) in the
// endorsement hierarchy, persists them at 0x81010001 and 0x81010002, and
// writes their certificates, issued by root for the vTPM called name, into the
// platform-owned, write-locked NV indices 0x01C00002 and 0x01C0000A
// (R-TRUST-6). It is done in Go over the TPM protocol, not with swtpm_setup.
// An already provisioned TPM is returned as it is.
func Provision(t transport.TPM, root *Root, name string) (*Endorsement, error) {
	var out Endorsement
	for i, s := range ekSpecs {
		ek, err := provisionOne(t, root, name, s)
		if err != nil {
			return nil, fmt.Errorf("provision %s EK for %s: %w", s.kind, name, err)
		}
		if i == 0 {
			out.RSA = *ek
		} else {
			out.ECC = *ek
		}
	}
	return &out, nil
}

func provisionOne(t transport.TPM, root *Root, id string, s ekSpec) (*EK, error) {
	pubArea, err := ensureEK(t, s)
	if err != nil {
		return nil, err
	}
	if der, err := readCertNV(t, s.index); err == nil {
		return &EK{Kind: s.kind, Handle: s.handle, Index: s.index, Public: *pubArea, CertDER: der}, nil
	}
	pub, err := tpm2.Pub(*pubArea)
	if err != nil {
		return nil, err
	}
	der, err := root.IssueEK(pub, id)
	if err != nil {
		return nil, err
	}
	if err := writeCertNV(t, s.index, der); err != nil {
		return nil, err
	}
	return &EK{Kind: s.kind, Handle: s.handle, Index: s.index, Public: *pubArea, CertDER: der}, nil
}

// CreateEKs creates and persists both EKs without certifying them yet: the
// slow part of provisioning (RSA key generation), done ahead of time for a
// pool of vTPMs; Provision later adds the certificates.
func CreateEKs(t transport.TPM) error {
	for _, s := range ekSpecs {
		if _, err := ensureEK(t, s); err != nil {
			return fmt.Errorf("create %s EK: %w", s.kind, err)
		}
	}
	return nil
}

// ensureEK returns the EK persisted at s.handle, creating it if absent.
func ensureEK(t transport.TPM, s ekSpec) (*tpm2.TPMTPublic, error) {
	if rp, err := (tpm2.ReadPublic{ObjectHandle: s.handle}).Execute(t); err == nil {
		return rp.OutPublic.Contents()
	}
	cp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(s.template)}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("create primary: %w", err)
	}
	defer tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(t)
	pubArea, err := cp.OutPublic.Contents()
	if err != nil {
		return nil, err
	}
	_, err = tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		ObjectHandle:     tpm2.NamedHandle{Handle: cp.ObjectHandle, Name: cp.Name},
		PersistentHandle: s.handle,
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("persist at 0x%08x: %w", uint32(s.handle), err)
	}
	return pubArea, nil
}

// ReadEndorsement reads the persisted EKs and their certificates back from the TPM.
func ReadEndorsement(t transport.TPM) (*Endorsement, error) {
	var out Endorsement
	for i, s := range ekSpecs {
		ek, err := readOne(t, s)
		if err != nil {
			return nil, fmt.Errorf("read %s EK: %w", s.kind, err)
		}
		if i == 0 {
			out.RSA = *ek
		} else {
			out.ECC = *ek
		}
	}
	return &out, nil
}

func readOne(t transport.TPM, s ekSpec) (*EK, error) {
	rp, err := tpm2.ReadPublic{ObjectHandle: s.handle}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("EK at 0x%08x: %w", uint32(s.handle), err)
	}
	pub, err := rp.OutPublic.Contents()
	if err != nil {
		return nil, err
	}
	der, err := readCertNV(t, s.index)
	if err != nil {
		return nil, err
	}
	return &EK{Kind: s.kind, Handle: s.handle, Index: s.index, Public: *pub, CertDER: der}, nil
}

// PublicKey returns the EK's public key as a crypto.PublicKey.
func (e *EK) PublicKey() (crypto.PublicKey, error) { return tpm2.Pub(e.Public) }
