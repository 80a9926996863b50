package measure

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// Extend extends one event's SHA-256 digest into its PCR. The caller holds
// the TPM at Locality(e.PCR).
func Extend(t transport.TPM, e attestapi.Event) error {
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(e.PCR), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: e.Digest[:]}}},
	}.Execute(t)
	if err != nil {
		return fmt.Errorf("extend PCR %d: %w", e.PCR, err)
	}
	return nil
}

// ReadPCRs reads the SHA-256 values of pcrs.
func ReadPCRs(t transport.TPM, pcrs []uint32) (map[uint32][]byte, error) {
	out := map[uint32][]byte{}
	// PCR_Read returns at most 8 digests per call.
	for start := 0; start < len(pcrs); start += 8 {
		batch := pcrs[start:min(start+8, len(pcrs))]
		sel := make([]uint, len(batch))
		for i, p := range batch {
			sel[i] = uint(p)
		}
		r, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
			{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(sel...)}}}}.Execute(t)
		if err != nil {
			return nil, fmt.Errorf("read PCRs %v: %w", batch, err)
		}
		if len(r.PCRValues.Digests) != len(batch) {
			return nil, fmt.Errorf("read PCRs %v: TPM returned %d values", batch, len(r.PCRValues.Digests))
		}
		// Values come back in ascending PCR order.
		asc := append([]uint32(nil), batch...)
		sortU32(asc)
		for i, p := range asc {
			out[p] = r.PCRValues.Digests[i].Buffer
		}
	}
	return out, nil
}

func sortU32(s []uint32) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Counters reads the TPM's reset and restart counters, recorded in the
// launch event so a verifier can tell the vTPM was not reset since launch.
func Counters(t transport.TPM) (attestapi.Launch, error) {
	rsp, err := tpm2.ReadClock{}.Execute(t)
	if err != nil {
		return attestapi.Launch{}, fmt.Errorf("read TPM clock: %w", err)
	}
	ci := rsp.CurrentTime.ClockInfo
	return attestapi.Launch{ResetCount: ci.ResetCount, RestartCount: ci.RestartCount}, nil
}
