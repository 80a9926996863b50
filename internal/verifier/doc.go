// Package verifier appraises trustbox attestation evidence against a policy
// and says why it refuses (R-TRUST-1, R-TRUST-5, R-TRUST-6); it shares only
// pkg/attestapi with the runtime side.
package verifier
