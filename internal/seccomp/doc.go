// Package seccomp turns OCI and Docker seccomp profiles into one optimised, proved seccomp-bpf program per container (R-LSM-c, R-LSM-d, R-LSM-e, R-ISO-1).
package seccomp
