package attestapi

import (
	"encoding/json"
	"fmt"
)

// Wire versions.
const (
	EvidenceVersion = "trustbox.dev/evidence/v1"
	PolicyVersion   = "trustbox.dev/policy/v1"
	VerdictVersion  = "trustbox.dev/verdict/v1"
)

// Evidence is what `trustbox attest` returns: a quote over the launch PCRs
// bound to the verifier's nonce, the event log, and the certificates that
// tie the quoting key to the vTPM's certified EK.
type Evidence struct {
	Version     string `json:"version"`
	ContainerID string `json:"container_id"`
	Nonce       []byte `json:"nonce"`
	Quote       Quote  `json:"quote"`
	EventLog    []byte `json:"event_log"`
	// AKPublic is the AK's TPMT_PUBLIC; AKCert certifies it, bound to EKCert.
	AKPublic []byte `json:"ak_public"`
	AKCert   []byte `json:"ak_cert"`
	EKCert   []byte `json:"ek_cert"`
	// Chain holds the issuing certificates, the root last (DER).
	Chain [][]byte `json:"chain"`
	// RootKind is "software" or "hardware", as the chain says (R-TRUST-6).
	RootKind string `json:"root_kind"`
	// HostQuote is a quote of the host's boot PCRs by the host TPM's AK over
	// the same nonce, where a host TPM is the root; HostAKCert certifies
	// that AK under the same root.
	HostQuote  *Quote `json:"host_quote,omitempty"`
	HostAKCert []byte `json:"host_ak_cert,omitempty"`
}

// Quote is a TPM2_Quote result with the PCR values it covers.
type Quote struct {
	Attest    []byte            `json:"attest"`    // TPMS_ATTEST
	Signature []byte            `json:"signature"` // TPMT_SIGNATURE
	PCRs      map[uint32][]byte `json:"pcrs"`      // SHA-256 bank
}

// Policy is what a verifier accepts.
type Policy struct {
	Version string `json:"version"`
	// TrustedRoots are PEM root certificates.
	TrustedRoots []string `json:"trusted_roots"`
	// AllowSoftwareRoot opts in to roots with no hardware TPM behind them.
	AllowSoftwareRoot     bool     `json:"allow_software_root"`
	AllowedImageDigests   []string `json:"allowed_image_digests,omitempty"`
	AllowedRuntimeDigests []string `json:"allowed_runtime_digests,omitempty"`
	RequiredProfile       string   `json:"required_profile,omitempty"`
	RequiredSeccompSHA256 string   `json:"required_seccomp_sha256,omitempty"`
	ContainerID           string   `json:"container_id,omitempty"`
	// RequireHostQuote refuses evidence without a valid host quote.
	RequireHostQuote bool `json:"require_host_quote,omitempty"`
}

// Verdict is the verifier's answer.
type Verdict struct {
	Version   string   `json:"version"`
	Trusted   bool     `json:"trusted"`
	Reasons   []string `json:"reasons,omitempty"`
	RootKind  string   `json:"root_kind,omitempty"`
	Container string   `json:"container,omitempty"`
	Image     string   `json:"image,omitempty"`
	Profile   string   `json:"profile,omitempty"`
	// HostPCRs are the host's quoted boot PCRs, when a host quote verified.
	HostPCRs map[uint32][]byte `json:"host_pcrs,omitempty"`
}

// maxDocument bounds evidence and policy documents.
const maxDocument = 8 << 20

// DecodeEvidence parses and version-checks an evidence document.
func DecodeEvidence(b []byte) (*Evidence, error) {
	var e Evidence
	if err := decode(b, &e, "evidence"); err != nil {
		return nil, err
	}
	if e.Version != EvidenceVersion {
		return nil, fmt.Errorf("evidence version %q, want %q", e.Version, EvidenceVersion)
	}
	return &e, nil
}

// DecodePolicy parses and version-checks a policy document.
func DecodePolicy(b []byte) (*Policy, error) {
	var p Policy
	if err := decode(b, &p, "policy"); err != nil {
		return nil, err
	}
	if p.Version != PolicyVersion {
		return nil, fmt.Errorf("policy version %q, want %q", p.Version, PolicyVersion)
	}
	return &p, nil
}

func decode(b []byte, v any, what string) error {
	if len(b) > maxDocument {
		return fmt.Errorf("%s is %d bytes, over the %d limit", what, len(b), maxDocument)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}
