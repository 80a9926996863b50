package tpmprov

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// rootKeyTemplate is the host-TPM root's signing key: an unrestricted ECDSA
// P-256 primary under the owner hierarchy. Primaries are re-derived from the
// hierarchy seed, so the same template yields the same key on every start and
// no key blob is stored anywhere.
var rootKeyTemplate = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgECC,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
		UserWithAuth: true, SignEncrypt: true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		Scheme: tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgECDSA, Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA,
			&tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256})},
		CurveID: tpm2.TPMECCNistP256,
	}),
	Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
		X: tpm2.TPM2BECCParameter{Buffer: []byte("trustbox vTPM root")},
	}),
}

// tpmSigner is a crypto.Signer whose key never leaves the host TPM.
type tpmSigner struct {
	mu     sync.Mutex
	tpm    transport.TPM
	handle tpm2.NamedHandle
	pub    *ecdsa.PublicKey
}

func (s *tpmSigner) Public() crypto.PublicKey { return s.pub }

func (s *tpmSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rsp, err := tpm2.Sign{
		KeyHandle: tpm2.AuthHandle{Handle: s.handle.Handle, Name: s.handle.Name, Auth: tpm2.PasswordAuth(nil)},
		Digest:    tpm2.TPM2BDigest{Buffer: digest},
		InScheme: tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgECDSA, Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgECDSA,
			&tpm2.TPMSSchemeHash{HashAlg: tpm2.TPMAlgSHA256})},
		Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
	}.Execute(s.tpm)
	if err != nil {
		return nil, fmt.Errorf("host TPM sign: %w", err)
	}
	sig, err := rsp.Signature.Signature.ECDSA()
	if err != nil {
		return nil, fmt.Errorf("host TPM sign: %w", err)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig.SignatureR.Buffer), new(big.Int).SetBytes(sig.SignatureS.Buffer)})
}

// HostRootSubject prefixes the subject CN of every hardware root.
const HostRootSubject = "trustbox host-TPM root"

// OpenTPMRoot makes the root whose signing key is resident in the host's TPM
// (R-TRUST-6). Its self-signed certificate carries the hardware-root policy
// and the SHA-256 of the host EK's public area, binding it to that EK; the
// verifier checks the binding by credential activation against the host EK
// (see tpmprov.RootKeyName). The TPM connection must stay open while in use.
func OpenTPMRoot(host transport.TPM, hostEK *tpm2.TPMTPublic) (*Root, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(rootKeyTemplate),
	}.Execute(host)
	if err != nil {
		return nil, fmt.Errorf("create root key in host TPM: %w", err)
	}
	handle := tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}
	flush := func() error {
		_, err := tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(host)
		return err
	}
	pubArea, err := rsp.OutPublic.Contents()
	if err == nil {
		var pub crypto.PublicKey
		if pub, err = tpm2.Pub(*pubArea); err == nil {
			signer := &tpmSigner{tpm: host, handle: handle, pub: pub.(*ecdsa.PublicKey)}
			var root *Root
			if root, err = selfSignTPMRoot(signer, hostEK); err == nil {
				root.closer = flush
				return root, nil
			}
		}
	}
	flush()
	return nil, fmt.Errorf("host TPM root: %w", err)
}

func selfSignTPMRoot(signer *tpmSigner, hostEK *tpm2.TPMTPublic) (*Root, error) {
	sum := sha256.Sum256(tpm2.Marshal(hostEK))
	ekHex := hex.EncodeToString(sum[:])
	tmpl := rootTemplate(HostRootSubject+" "+ekHex[:16], HardwareRootPolicy)
	u, err := url.Parse(uriHostEK + ekHex)
	if err != nil {
		return nil, err
	}
	tmpl.URIs = []*url.URL{u}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.pub, signer)
	if err != nil {
		return nil, fmt.Errorf("self-sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Root{Cert: cert, signer: signer}, nil
}

// RootKeyName is the TPM name of the hardware root's key, for a credential
// activation challenge against the host EK.
func (r *Root) RootKeyName() ([]byte, bool) {
	s, ok := r.signer.(*tpmSigner)
	if !ok {
		return nil, false
	}
	return s.handle.Name.Buffer, true
}

// RootKeyHandle is the transient handle of the hardware root's key in the host TPM.
func (r *Root) RootKeyHandle() (tpm2.NamedHandle, bool) {
	s, ok := r.signer.(*tpmSigner)
	if !ok {
		return tpm2.NamedHandle{}, false
	}
	return s.handle, true
}
