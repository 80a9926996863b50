// Package vtpm runs one swtpm per container, holds its data and control
// sockets for the manager alone, and serves it to the container (R-TRUST-2,
// R-TRUST-4, R-TRUST-7).
package vtpm
