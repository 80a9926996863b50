// Package syscalls maps system-call names to numbers for every architecture trustbox compiles seccomp filters for.
package syscalls

//go:generate go run gen.go
