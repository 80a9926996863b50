// Package policy is trustbox's security baseline: one object that hardens or refuses an OCI config and reports every decision with its requirement ID.
package policy
