// Command seccomp measures trustbox's seccomp filters against libseccomp's, runc and gVisor: instructions executed per call, ns per call, and learning-mode overhead.
package main
