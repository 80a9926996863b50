package tpmprov

import (
	"crypto"
	"crypto/x509"
	"errors"
	"net/url"

	"github.com/google/go-tpm/tpm2/transport"
)

// ErrNotHardware is returned for host-TPM operations on a software root.
var ErrNotHardware = errors.New("root has no host TPM")

// WithHost runs fn with exclusive use of a hardware root's host TPM (the
// root's own signing shares it).
func (r *Root) WithHost(fn func(t transport.TPM) error) error {
	s, ok := r.signer.(*tpmSigner)
	if !ok {
		return ErrNotHardware
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(s.tpm)
}

// IssueHostAK certifies the host TPM's attestation key, bound to the same
// host EK as the root itself; call it only after credential activation
// against that EK.
func (r *Root) IssueHostAK(pub crypto.PublicKey) ([]byte, error) {
	u1, err := uri(uriContainer, HostID)
	if err != nil {
		return nil, err
	}
	u2, err := url.Parse(uriHostEK + HostEKOf(r.Cert))
	if err != nil {
		return nil, err
	}
	return r.issue(pub, "trustbox host AK", x509.KeyUsageDigitalSignature, oidTCGAIKCertificate, []*url.URL{u1, u2})
}

// HostID is the container id a host AK certificate names.
const HostID = "_host"
