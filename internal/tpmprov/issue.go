package tpmprov

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net/url"
	"time"
)

// TCG key-purpose OIDs (TCG EK Credential Profile).
var (
	oidTCGEKCertificate  = asn1.ObjectIdentifier{2, 23, 133, 8, 1}
	oidTCGAIKCertificate = asn1.ObjectIdentifier{2, 23, 133, 8, 3}
)

// IssueEK certifies the EK public key of the vTPM called name and returns
// DER. The EK names the vTPM, like a TPM's serial number; the binding to a
// container is the AK certificate's (IssueAK), so a vTPM can be provisioned
// before it is given to a container.
func (r *Root) IssueEK(pub crypto.PublicKey, name string) ([]byte, error) {
	usage := x509.KeyUsageKeyEncipherment
	if _, ok := pub.(*ecdsa.PublicKey); ok {
		usage = x509.KeyUsageKeyAgreement
	}
	u, err := uri(uriVTPM, name)
	if err != nil {
		return nil, err
	}
	return r.issue(pub, "trustbox vTPM EK "+name, usage, oidTCGEKCertificate, []*url.URL{u})
}

// IssueAK certifies an attestation key of container id's vTPM, bound to the
// EK certificate ekCert; call it only after credential activation proved the
// AK lives in the same TPM as that EK.
func (r *Root) IssueAK(pub crypto.PublicKey, id string, ekCert []byte) ([]byte, error) {
	u1, err := uri(uriContainer, id)
	if err != nil {
		return nil, err
	}
	u2, err := uri(uriEKSHA256, CertSHA256(ekCert))
	if err != nil {
		return nil, err
	}
	return r.issue(pub, "trustbox vTPM AK "+id, x509.KeyUsageDigitalSignature, oidTCGAIKCertificate, []*url.URL{u1, u2})
}

func (r *Root) issue(pub crypto.PublicKey, cn string, usage x509.KeyUsage, purpose asn1.ObjectIdentifier, uris []*url.URL) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"trustbox"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              r.Cert.NotAfter,
		KeyUsage:              usage,
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{purpose},
		BasicConstraintsValid: true,
		URIs:                  uris,
		Policies:              r.Cert.Policies,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, r.Cert, pub, r.signer)
	if err != nil {
		return nil, fmt.Errorf("issue certificate %q under %s root: %w", cn, r.Kind(), err)
	}
	return der, nil
}
