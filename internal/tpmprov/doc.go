// Package tpmprov provisions a TPM's endorsement keys and EK certificates at
// the TCG handles, issued by a host-TPM-resident root or a labelled software
// root (R-TRUST-6).
package tpmprov
