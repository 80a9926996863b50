package attest

import (
	"crypto"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// akTemplate is the attestation key: a restricted ECDSA P-256 signing
// primary in the endorsement hierarchy. A primary is re-derived from the
// endorsement seed, so every load yields the same key and no blob is stored.
var akTemplate = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgECC,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
		UserWithAuth: true, Restricted: true, SignEncrypt: true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		Scheme: tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgECDSA, Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA,
			&tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256})},
		CurveID: tpm2.TPMECCNistP256,
	}),
	Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
		X: tpm2.TPM2BECCParameter{Buffer: []byte("trustbox AK")},
	}),
}

// AK is a loaded attestation key; Close flushes it.
type AK struct {
	t      transport.TPM
	Handle tpm2.NamedHandle
	Public tpm2.TPMTPublic
}

// LoadAK (re)creates the AK in the TPM's endorsement hierarchy.
func LoadAK(t transport.TPM) (*AK, error) {
	rsp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(akTemplate)}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("create AK: %w", err)
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(t)
		return nil, fmt.Errorf("AK public area: %w", err)
	}
	return &AK{t: t, Handle: tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}, Public: *pub}, nil
}

// PublicKey is the AK's public key.
func (a *AK) PublicKey() (crypto.PublicKey, error) { return tpm2.Pub(a.Public) }

// Close flushes the AK from the TPM.
func (a *AK) Close() error {
	_, err := tpm2.FlushContext{FlushHandle: a.Handle.Handle}.Execute(a.t)
	return err
}
