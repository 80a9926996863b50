package verifier

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"sort"

	"github.com/google/go-tpm/tpm2"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// quoted is the part of a verified TPMS_ATTEST the later steps use.
type quoted struct {
	nonce        []byte
	resetCount   uint32
	restartCount uint32
	pcrs         []uint32
}

// checkQuote verifies the AK's signature over TPMS_ATTEST, that the TPM made
// it (TPM_GENERATED), that it is a quote over the SHA-256 launch PCRs, and
// that the PCR values in the evidence hash to the signed PCR digest.
func checkQuote(ev *attestapi.Evidence, ak *ecdsa.PublicKey) (*quoted, error) {
	return verifyQuote(&ev.Quote, ak, attestapi.LaunchPCRs, "")
}

// verifyQuote checks one quote's signature, type, PCR selection and digest;
// what names the quote in reasons ("" for the container's, "host " for the host's).
func verifyQuote(quote *attestapi.Quote, ak *ecdsa.PublicKey, want []uint32, what string) (*quoted, error) {
	sig, err := tpm2.Unmarshal[tpm2.TPMTSignature](quote.Signature)
	if err != nil {
		return nil, refusal(fmt.Sprintf("%squote signature: %v", what, err))
	}
	es, err := sig.Signature.ECDSA()
	if err != nil || sig.SigAlg != tpm2.TPMAlgECDSA {
		return nil, refusal(what + "quote signature is not ECDSA")
	}
	digest := sha256.Sum256(quote.Attest)
	r, s := new(big.Int).SetBytes(es.SignatureR.Buffer), new(big.Int).SetBytes(es.SignatureS.Buffer)
	if es.Hash != tpm2.TPMAlgSHA256 || !ecdsa.Verify(ak, digest[:], r, s) {
		return nil, refusal(what + "quote signature does not verify with the certified AK (tampered quote)")
	}
	att, err := tpm2.Unmarshal[tpm2.TPMSAttest](quote.Attest)
	if err != nil {
		return nil, refusal(fmt.Sprintf("%squote: %v", what, err))
	}
	if att.Type != tpm2.TPMSTAttestQuote {
		return nil, refusal(fmt.Sprintf("%sattestation is of type 0x%x, not a quote", what, att.Type))
	}
	qi, err := att.Attested.Quote()
	if err != nil {
		return nil, refusal(fmt.Sprintf("%squote: %v", what, err))
	}
	pcrs, err := selectedSHA256(qi.PCRSelect)
	if err != nil {
		return nil, err
	}
	if !equalU32(pcrs, want) {
		return nil, refusal(fmt.Sprintf("%squote covers PCRs %v, want %v", what, pcrs, want))
	}
	h := sha256.New()
	for _, p := range pcrs {
		v := quote.PCRs[p]
		if len(v) != sha256.Size {
			return nil, refusal(fmt.Sprintf("evidence lacks the SHA-256 value of %squoted PCR %d", what, p))
		}
		h.Write(v)
	}
	if !bytes.Equal(h.Sum(nil), qi.PCRDigest.Buffer) {
		return nil, refusal(what + "PCR values in the evidence do not match the signed PCR digest (wrong PCR)")
	}
	return &quoted{nonce: att.ExtraData.Buffer, resetCount: att.ClockInfo.ResetCount,
		restartCount: att.ClockInfo.RestartCount, pcrs: pcrs}, nil
}

func selectedSHA256(sel tpm2.TPMLPCRSelection) ([]uint32, error) {
	var out []uint32
	for _, s := range sel.PCRSelections {
		if s.Hash != tpm2.TPMAlgSHA256 {
			return nil, refusal(fmt.Sprintf("quote selects PCR bank 0x%x, want SHA-256", s.Hash))
		}
		for i, b := range s.PCRSelect {
			for bit := 0; bit < 8; bit++ {
				if b&(1<<bit) != 0 {
					out = append(out, uint32(i*8+bit))
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
