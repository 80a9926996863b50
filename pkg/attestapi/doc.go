// Package attestapi defines trustbox's versioned attestation wire types:
// launch measurements, evidence, appraisal policy and verdicts (R-TRUST-1, R-TRUST-6).
package attestapi
