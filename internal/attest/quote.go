package attest

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// maxNonce is TPM2B_DATA's limit for a SHA-256 TPM's qualifying data.
const maxNonce = 64

// Quote has the AK sign the SHA-256 values of pcrs together with nonce. The
// caller holds the TPM exclusively so the values read match the ones quoted.
func Quote(t transport.TPM, ak *AK, nonce []byte, pcrs []uint32) (*attestapi.Quote, error) {
	if len(nonce) == 0 || len(nonce) > maxNonce {
		return nil, fmt.Errorf("quote: nonce must be 1 to %d bytes, got %d", maxNonce, len(nonce))
	}
	sel := make([]uint, len(pcrs))
	for i, p := range pcrs {
		sel[i] = uint(p)
	}
	rsp, err := tpm2.Quote{
		SignHandle:     tpm2.AuthHandle{Handle: ak.Handle.Handle, Name: ak.Handle.Name, Auth: tpm2.PasswordAuth(nil)},
		QualifyingData: tpm2.TPM2BData{Buffer: nonce},
		InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
		PCRSelect: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
			{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(sel...)}}},
	}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("quote: %w", err)
	}
	vals, err := measure.ReadPCRs(t, pcrs)
	if err != nil {
		return nil, fmt.Errorf("quote: %w", err)
	}
	return &attestapi.Quote{Attest: rsp.Quoted.Bytes(), Signature: tpm2.Marshal(&rsp.Signature), PCRs: vals}, nil
}

// Input is what Collect needs besides the TPM.
type Input struct {
	ContainerID string
	Nonce       []byte
	EventLog    []byte
	AKCert      []byte
	EKCert      []byte
	Chain       [][]byte
	RootKind    string
}

// Collect loads the AK, quotes the launch PCRs with the nonce and assembles
// the evidence document.
func Collect(t transport.TPM, in Input) (*attestapi.Evidence, error) {
	ak, err := LoadAK(t)
	if err != nil {
		return nil, fmt.Errorf("attest %s: %w", in.ContainerID, err)
	}
	defer ak.Close()
	q, err := Quote(t, ak, in.Nonce, attestapi.LaunchPCRs)
	if err != nil {
		return nil, fmt.Errorf("attest %s: %w", in.ContainerID, err)
	}
	return &attestapi.Evidence{
		Version:     attestapi.EvidenceVersion,
		ContainerID: in.ContainerID,
		Nonce:       in.Nonce,
		Quote:       *q,
		EventLog:    in.EventLog,
		AKPublic:    tpm2.Marshal(&ak.Public),
		AKCert:      in.AKCert,
		EKCert:      in.EKCert,
		Chain:       in.Chain,
		RootKind:    in.RootKind,
	}, nil
}
