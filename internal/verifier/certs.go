package verifier

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-tpm/tpm2"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// Policy OIDs and URI prefixes of trustbox certificates (same values as
// internal/tpmprov; kept here so the verifier shares no code with the runtime).
const (
	oidArc         = "2.25.160160956833060844871301639865761297831"
	softwarePolicy = oidArc + ".1"
	hardwarePolicy = oidArc + ".2"
	uriContainer   = "urn:trustbox:container:"
	uriEKSHA256    = "urn:trustbox:ek-cert-sha256:"
)

// checkCerts finds the trusted root the evidence chains to, verifies the EK
// and AK certificates under it, the AK's binding to the EK certificate (made
// at enrolment by credential activation) and that both name the container.
func checkCerts(ev *attestapi.Evidence, p *attestapi.Policy) (*x509.Certificate, *ecdsa.PublicKey, error) {
	if len(ev.Chain) == 0 {
		return nil, nil, refusal("untrusted root: evidence carries no certificate chain")
	}
	root, err := x509.ParseCertificate(ev.Chain[len(ev.Chain)-1])
	if err != nil {
		return nil, nil, refusal(fmt.Sprintf("untrusted root: bad root certificate: %v", err))
	}
	if !trusted(root, p.TrustedRoots) {
		return root, nil, refusal(fmt.Sprintf("untrusted root: %q is not among the policy's trusted roots", root.Subject.CommonName))
	}
	if rootKind(root) == "software" && !p.AllowSoftwareRoot {
		return root, nil, refusal(fmt.Sprintf("untrusted root: %q is a software root (no hardware TPM) and the policy does not set allow_software_root", root.Subject.CommonName))
	}
	opts := x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	opts.Roots.AddCert(root)
	for _, der := range ev.Chain[:len(ev.Chain)-1] {
		if c, err := x509.ParseCertificate(der); err == nil {
			opts.Intermediates.AddCert(c)
		}
	}
	if _, err := verifyLeaf("EK", ev.EKCert, opts); err != nil {
		return root, nil, err
	}
	akCert, err := verifyLeaf("AK", ev.AKCert, opts)
	if err != nil {
		return root, nil, err
	}
	sum := sha256.Sum256(ev.EKCert)
	if uriValue(akCert, uriEKSHA256) != hex.EncodeToString(sum[:]) {
		return root, nil, refusal("AK certificate is not bound to the evidence's EK certificate")
	}
	// The EK names the vTPM; the AK, enrolled for one container, names it.
	if got := uriValue(akCert, uriContainer); got != ev.ContainerID {
		return root, nil, refusal(fmt.Sprintf("%q was issued for container %q, evidence is for %q", akCert.Subject.CommonName, got, ev.ContainerID))
	}
	if p.ContainerID != "" && p.ContainerID != ev.ContainerID {
		return root, nil, refusal(fmt.Sprintf("evidence is for container %q, policy expects %q", ev.ContainerID, p.ContainerID))
	}
	ak, err := akKey(ev.AKPublic, akCert)
	return root, ak, err
}

func trusted(root *x509.Certificate, pems []string) bool {
	for _, s := range pems {
		rest := []byte(s)
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if bytes.Equal(b.Bytes, root.Raw) {
				return true
			}
		}
	}
	return false
}

func verifyLeaf(what string, der []byte, opts x509.VerifyOptions) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, refusal(fmt.Sprintf("%s certificate: %v", what, err))
	}
	if _, err := c.Verify(opts); err != nil {
		return nil, refusal(fmt.Sprintf("%s certificate does not chain to the trusted root: %v", what, err))
	}
	return c, nil
}

// akKey checks the AK public area is a restricted signing key and is the key its certificate certifies.
func akKey(area []byte, cert *x509.Certificate) (*ecdsa.PublicKey, error) {
	pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](area)
	if err != nil {
		return nil, refusal(fmt.Sprintf("AK public area: %v", err))
	}
	if !pub.ObjectAttributes.Restricted || !pub.ObjectAttributes.SignEncrypt || !pub.ObjectAttributes.FixedTPM {
		return nil, refusal("AK is not a fixedTPM restricted signing key")
	}
	k, err := tpm2.Pub(*pub)
	if err != nil {
		return nil, refusal(fmt.Sprintf("AK public area: %v", err))
	}
	ec, ok := k.(*ecdsa.PublicKey)
	certKey, ok2 := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !ok2 || !ec.Equal(certKey) {
		return nil, refusal("AK public area does not match the AK certificate")
	}
	return ec, nil
}

func uriValue(c *x509.Certificate, prefix string) string {
	for _, u := range c.URIs {
		if s := u.String(); strings.HasPrefix(s, prefix) {
			v, err := url.PathUnescape(strings.TrimPrefix(s, prefix))
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}
