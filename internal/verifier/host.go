package verifier

import (
	"crypto/ecdsa"
	"crypto/subtle"
	"crypto/x509"

	"github.com/trustbox/trustbox/pkg/attestapi"
)

const (
	uriHostEK = "urn:trustbox:host-ek-sha256:"
	hostID    = "_host"
)

// checkHost verifies the host quote that rides along with evidence from a
// hardware-rooted manager: its AK is certified by the same root and bound to
// the same host EK, it answers the same nonce, and its PCR values match.
func checkHost(ev *attestapi.Evidence, root *x509.Certificate, opts Options) (map[uint32][]byte, error) {
	if ev.HostQuote == nil {
		if opts.Policy.RequireHostQuote {
			return nil, refusal("policy requires a host quote and the evidence has none (no host TPM behind the root?)")
		}
		return nil, nil
	}
	vo := x509.VerifyOptions{Roots: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	vo.Roots.AddCert(root)
	c, err := verifyLeaf("host AK", ev.HostAKCert, vo)
	if err != nil {
		return nil, err
	}
	ek := uriValue(root, uriHostEK)
	if ek == "" || uriValue(c, uriHostEK) != ek || uriValue(c, uriContainer) != hostID {
		return nil, refusal("host AK certificate is not bound to the root's host EK")
	}
	key, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, refusal("host AK is not an ECDSA key")
	}
	q, err := verifyQuote(ev.HostQuote, key, attestapi.HostPCRs, "host ")
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(q.nonce, opts.Nonce) != 1 {
		return nil, refusal("host quote answers another nonce (replayed host evidence)")
	}
	return ev.HostQuote.PCRs, nil
}
