package attest

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/tpmprov"
)

// Enrol proves by credential activation that the AK lives in the same TPM
// as the certified ECC EK, then has root certify the AK, bound to that EK
// certificate. The manager does this once per vTPM, as the enrolment CA.
func Enrol(t transport.TPM, root *tpmprov.Root, id string, ek *tpmprov.EK) ([]byte, error) {
	ak, err := LoadAK(t)
	if err != nil {
		return nil, fmt.Errorf("enrol AK of %s: %w", id, err)
	}
	defer ak.Close()
	rp, err := tpm2.ReadPublic{ObjectHandle: ek.Handle}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("enrol AK of %s: EK: %w", id, err)
	}
	ekh := tpm2.NamedHandle{Handle: ek.Handle, Name: rp.Name}
	if err := ProveResidency(t, ekh, &ek.Public, ak.Handle); err != nil {
		return nil, fmt.Errorf("enrol AK of %s: %w", id, err)
	}
	pub, err := ak.PublicKey()
	if err != nil {
		return nil, err
	}
	der, err := root.IssueAK(pub, id, ek.CertDER)
	if err != nil {
		return nil, fmt.Errorf("enrol AK of %s: %w", id, err)
	}
	return der, nil
}
