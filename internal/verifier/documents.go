package verifier

import (
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// VerifyDocuments decodes an evidence and a policy document and appraises
// the evidence against the policy and the verifier's nonce. A document that
// does not decode is an error; evidence that fails appraisal is a verdict
// with Trusted false and its reasons.
func VerifyDocuments(evidence, policy, nonce []byte, seen NonceStore) (attestapi.Verdict, error) {
	p, err := attestapi.DecodePolicy(policy)
	if err != nil {
		return attestapi.Verdict{}, err
	}
	ev, err := attestapi.DecodeEvidence(evidence)
	if err != nil {
		return attestapi.Verdict{}, err
	}
	return Appraise(ev, Options{Policy: p, Nonce: nonce, Seen: seen}), nil
}
