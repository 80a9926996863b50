// Package bundlecheck implements `trustbox check bundle` and `check config`: it lints an OCI bundle's config.json against trustbox's requirement IDs and reports one finding per check.
package bundlecheck
