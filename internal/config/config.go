package config

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

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
	Seccomp Program `json:"seccomp,omitempty"`
	// SeccompFlags are seccomp(2) SECCOMP_FILTER_FLAG_* bits.
	SeccompFlags uint `json:"seccompFlags,omitempty"`
	// SeccompAgentFd is a socket connected to the profile's listenerPath
	// (SCMP_ACT_NOTIFY); init sends it SeccompState and the listener.
	SeccompAgentFd int    `json:"seccompAgentFd,omitempty"`
	SeccompState   []byte `json:"seccompState,omitempty"`
}

// Program is a filter, sent as its raw struct sock_filter bytes (base64 in
// JSON): a few kB instead of an object per instruction for init to decode.
type Program []SockFilter

// MarshalJSON encodes the instructions in native byte order.
func (p Program) MarshalJSON() ([]byte, error) {
	raw := make([]byte, 8*len(p))
	for i, f := range p {
		b := raw[8*i:]
		binary.NativeEndian.PutUint16(b, f.Code)
		b[2], b[3] = f.Jt, f.Jf
		binary.NativeEndian.PutUint32(b[4:], f.K)
	}
	return json.Marshal(raw)
}

// UnmarshalJSON decodes MarshalJSON's form.
func (p *Program) UnmarshalJSON(data []byte) error {
	var raw []byte
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if len(raw)%8 != 0 {
		return fmt.Errorf("seccomp program: %d bytes is not a whole number of instructions", len(raw))
	}
	out := make(Program, len(raw)/8)
	for i := range out {
		b := raw[8*i:]
		out[i] = SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	*p = out
	return nil
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
