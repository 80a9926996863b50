package attest

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// EnrolHost proves by credential activation that the host TPM's AK is
// resident with the host EK, then has the hardware root certify it, so a
// host quote can ride along with every container's evidence.
func EnrolHost(root *tpmprov.Root) ([]byte, error) {
	var pub tpm2.TPMTPublic
	err := root.WithHost(func(t transport.TPM) error {
		ek, ekPub, flush, err := loadHostEK(t)
		if err != nil {
			return err
		}
		defer flush()
		ak, err := LoadAK(t)
		if err != nil {
			return err
		}
		defer ak.Close()
		pub = ak.Public
		return ProveResidency(t, ek, ekPub, ak.Handle)
	})
	if err != nil {
		return nil, fmt.Errorf("enrol host AK: %w", err)
	}
	k, err := tpm2.Pub(pub)
	if err != nil {
		return nil, fmt.Errorf("enrol host AK: %w", err)
	}
	return root.IssueHostAK(k)
}

// loadHostEK returns the host's RSA EK: the persisted one, or the TCG
// default primary (flushed by the returned func).
func loadHostEK(t transport.TPM) (tpm2.NamedHandle, *tpm2.TPMTPublic, func(), error) {
	if rp, err := (tpm2.ReadPublic{ObjectHandle: tpmprov.RSAEKHandle}).Execute(t); err == nil {
		pub, err := rp.OutPublic.Contents()
		return tpm2.NamedHandle{Handle: tpmprov.RSAEKHandle, Name: rp.Name}, pub, func() {}, err
	}
	cp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(tpm2.RSAEKTemplate)}.Execute(t)
	if err != nil {
		return tpm2.NamedHandle{}, nil, nil, fmt.Errorf("host EK: %w", err)
	}
	flush := func() { tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(t) }
	pub, err := cp.OutPublic.Contents()
	if err != nil {
		flush()
		return tpm2.NamedHandle{}, nil, nil, err
	}
	return tpm2.NamedHandle{Handle: cp.ObjectHandle, Name: cp.Name}, pub, flush, nil
}

// HostQuote quotes the host's boot PCRs with the same nonce as the
// container's quote (R-TRUST-1: the host's own measurements).
func HostQuote(root *tpmprov.Root, nonce []byte) (*attestapi.Quote, error) {
	var q *attestapi.Quote
	err := root.WithHost(func(t transport.TPM) error {
		ak, err := LoadAK(t)
		if err != nil {
			return err
		}
		defer ak.Close()
		q, err = Quote(t, ak, nonce, attestapi.HostPCRs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("host quote: %w", err)
	}
	return q, nil
}
