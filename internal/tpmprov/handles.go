package tpmprov

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-tpm/tpm2"
)

// TCG EK Credential Profile handles and NV indices.
const (
	RSAEKHandle    tpm2.TPMHandle = 0x81010001
	ECCEKHandle    tpm2.TPMHandle = 0x81010002
	RSAEKCertIndex tpm2.TPMHandle = 0x01C00002
	ECCEKCertIndex tpm2.TPMHandle = 0x01C0000A
)

// Certificate policy OIDs, under trustbox's UUID arc 2.25.<uuid> (ITU-T X.667).
// Every certificate a root issues carries the root's kind, so every report
// derived from it says whether hardware stands behind it (R-TRUST-6).
const oidArc = "2.25.160160956833060844871301639865761297831"

var (
	// SoftwareRootPolicy marks a root (and what it issues) with no hardware TPM behind it.
	SoftwareRootPolicy = mustOID(oidArc + ".1")
	// HardwareRootPolicy marks a root whose key lives in the host's TPM.
	HardwareRootPolicy = mustOID(oidArc + ".2")
)

func mustOID(s string) x509.OID {
	o, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return o
}

// URI SAN prefixes binding certificates together.
const (
	uriContainer = "urn:trustbox:container:"
	uriVTPM      = "urn:trustbox:vtpm:"
	uriEKSHA256  = "urn:trustbox:ek-cert-sha256:"
	uriHostEK    = "urn:trustbox:host-ek-sha256:"
)

// RootKind tells whether a certificate was issued under a software or a
// hardware root; "" when it carries neither policy.
func RootKind(c *x509.Certificate) string {
	for _, p := range c.Policies {
		switch {
		case p.Equal(SoftwareRootPolicy):
			return "software"
		case p.Equal(HardwareRootPolicy):
			return "hardware"
		}
	}
	return ""
}

// URIValue returns the value after prefix in c's URI SANs, if any.
func URIValue(c *x509.Certificate, prefix string) string {
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

// ContainerOf returns the container id an AK certificate was issued for.
func ContainerOf(c *x509.Certificate) string { return URIValue(c, uriContainer) }

// VTPMOf returns the vTPM name an EK certificate was issued for.
func VTPMOf(c *x509.Certificate) string { return URIValue(c, uriVTPM) }

// BoundEK returns the SHA-256 (hex) of the EK certificate an AK certificate is bound to.
func BoundEK(c *x509.Certificate) string { return URIValue(c, uriEKSHA256) }

// HostEKOf returns the SHA-256 (hex) of the host EK public area a hardware root is bound to.
func HostEKOf(c *x509.Certificate) string { return URIValue(c, uriHostEK) }

// CertSHA256 is the hex SHA-256 of a DER certificate.
func CertSHA256(der []byte) string {
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:])
}

func uri(prefix, v string) (*url.URL, error) {
	u, err := url.Parse(prefix + url.PathEscape(v))
	if err != nil {
		return nil, fmt.Errorf("certificate URI %s%s: %w", prefix, v, err)
	}
	return u, nil
}
