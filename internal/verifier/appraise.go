package verifier

import (
	"crypto/x509"

	"github.com/trustbox/trustbox/pkg/attestapi"
)

// Options are one appraisal's inputs besides the evidence.
type Options struct {
	Policy *attestapi.Policy
	// Nonce is the challenge this verifier issued; evidence for any other
	// nonce is a replay.
	Nonce []byte
	// Seen, when set, refuses a nonce already used once.
	Seen NonceStore
}

// refusal is a reason to distrust the evidence.
type refusal string

func (r refusal) Error() string { return string(r) }

// Appraise checks evidence step by step: root of trust, certificate chain
// and AK-EK binding, quote signature, nonce, PCR digest, event-log replay with
// every event re-hashed, then policy on the events. The verdict lists every
// reason found; a later step that depends on a failed one is skipped.
func Appraise(ev *attestapi.Evidence, opts Options) attestapi.Verdict {
	v := attestapi.Verdict{Version: attestapi.VerdictVersion, Container: ev.ContainerID}
	fail := func(err error) { v.Reasons = append(v.Reasons, err.Error()) }
	if opts.Policy == nil {
		fail(refusal("no policy given"))
		return v
	}
	root, ak, err := checkCerts(ev, opts.Policy)
	if root != nil {
		v.RootKind = rootKind(root)
	}
	if err != nil {
		fail(err)
		return v
	}
	q, err := checkQuote(ev, ak)
	if err != nil {
		fail(err)
		return v
	}
	if err := checkNonce(q, opts); err != nil {
		fail(err)
	}
	if hp, err := checkHost(ev, root, opts); err != nil {
		fail(err)
	} else {
		v.HostPCRs = hp
	}
	events, err := checkLog(ev)
	if err != nil {
		fail(err)
		return v
	}
	claims, errs := checkPolicy(ev, q, events, opts.Policy)
	for _, e := range errs {
		fail(e)
	}
	v.Image, v.Profile = claims.image, claims.profile
	v.Trusted = len(v.Reasons) == 0
	return v
}

func rootKind(c *x509.Certificate) string {
	for _, p := range c.Policies {
		switch p.String() {
		case softwarePolicy:
			return "software"
		case hardwarePolicy:
			return "hardware"
		}
	}
	return "unlabelled"
}
