// Package attest produces a vTPM's attestation evidence: AK enrolment by
// credential activation against the certified EK, and quotes over the launch PCRs.
package attest
