// Package linux wraps the few syscalls trustbox needs with EINTR retries and fd-based semantics.
package linux
