package config

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Init is everything init needs; the runtime has already validated and
// hardened the spec, so init applies it without second-guessing.
type Init struct {
	ID     string      `json:"id"`
	Spec   *specs.Spec `json:"spec"`
	Rootfs string      `json:"rootfs"` // absolute host path
	// RootfsIdmapped says the runtime sent, with this config, a detached
	// id-mapped mount of the rootfs to use instead of a plain bind.
	RootfsIdmapped bool `json:"rootfsIdmapped,omitempty"`
	// IdmappedMounts lists the mounts (by index) whose id-mapped bind the
	// runtime made and sent, in this order, after the rootfs mount.
	IdmappedMounts []int `json:"idmappedMounts,omitempty"`
	// Exec is set when init joins a running container instead of creating one.
	Exec bool `json:"exec,omitempty"`
	// NoPivot uses MS_MOVE + chroot instead of pivot_root (runc --no-pivot).
	NoPivot bool `json:"noPivot,omitempty"`
	// CgroupDirs are the container's host cgroup directories, bind-mounted
	// read-only where a "cgroup" mount asks for cgroupfs on a v1 host.
	CgroupDirs map[string]string `json:"cgroupDirs,omitempty"`
	// UserNS tells init it runs in a new user namespace (device nodes are bind-mounted, not created).
	UserNS bool `json:"userns,omitempty"`
	// State is the OCI state JSON given to hooks run by init.
	State []byte `json:"state,omitempty"`
	// Seccomp is the compiled filter (struct sock_filter array), installed last.
	Seccomp []SockFilter `json:"seccomp,omitempty"`
	// SeccompFlags are seccomp(2) SECCOMP_FILTER_FLAG_* bits.
	SeccompFlags uint `json:"seccompFlags,omitempty"`
	// SeccompAgentFd is a socket connected to the profile's listenerPath
	// (SCMP_ACT_NOTIFY); init sends it SeccompState and the listener.
	SeccompAgentFd int    `json:"seccompAgentFd,omitempty"`
	SeccompState   []byte `json:"seccompState,omitempty"`
}

// SockFilter is one classic BPF instruction.
type SockFilter struct {
	Code uint16 `json:"c"`
	Jt   uint8  `json:"t"`
	Jf   uint8  `json:"f"`
	K    uint32 `json:"k"`
}

// Message is what init reports back on the sync socket.
type Message struct {
	Type  string `json:"type"`            // "ready", "error", "pty"
	Error string `json:"error,omitempty"` // set when Type is "error"
	Pid   int    `json:"pid,omitempty"`
}
