// Package spec loads an OCI bundle's config.json and validates it as a list of small checks that name the offending field.
package spec
