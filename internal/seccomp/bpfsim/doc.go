// Package bpfsim runs seccomp classic-BPF programs on seccomp_data in native byte order, as the kernel does, counting executed instructions.
package bpfsim
