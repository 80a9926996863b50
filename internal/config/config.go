package config

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

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
	// RuntimeHooks says the config has prestart or createRuntime hooks: init
	// stops before createContainer hooks and pivot_root, asks the runtime to
	// run them ({"type":"hooks"}) and waits for {"type":"hooks-done"}.
	RuntimeHooks bool `json:"runtimeHooks,omitempty"`
	// SharedMounts says init is in a running container's mount namespace,
	// joined by path (the nsenter constructor entered it): init leaves it
	// as it is, no mounts and no pivot_root. HostProcFd is then an O_PATH
	// handle on the host's /proc, passed by the runtime.
	SharedMounts bool `json:"sharedMounts,omitempty"`
	HostProcFd   int  `json:"hostProcFd,omitempty"`
	// State is the OCI state JSON given to hooks run by init.
	State []byte `json:"state,omitempty"`
	// Seccomp is the compiled filter (struct sock_filter array), installed
	// last; it travels after the JSON, as raw instructions (Encode).
	Seccomp Program `json:"-"`
	// SeccompFlags are seccomp(2) SECCOMP_FILTER_FLAG_* bits.
	SeccompFlags uint `json:"seccompFlags,omitempty"`
	// SeccompAgentFd is a socket connected to the profile's listenerPath
	// (SCMP_ACT_NOTIFY); init sends it SeccompState and the listener.
	SeccompAgentFd int    `json:"seccompAgentFd,omitempty"`
	SeccompState   []byte `json:"seccompState,omitempty"`
}

// Program is a compiled seccomp filter (struct sock_filter array).
type Program []SockFilter

// Encode is init's config on the wire: a 4-byte length, that many bytes of
// JSON, then the seccomp filter as raw 8-byte instructions (native byte
// order, as the kernel takes them). Kept out of the JSON, the filter (often
// the largest part) costs init neither base64 nor a JSON scan.
func Encode(c *Init) ([]byte, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if uint64(len(js)) > math.MaxUint32 {
		return nil, fmt.Errorf("init config: %d bytes of JSON", len(js))
	}
	b := make([]byte, 4, 4+len(js)+8*len(c.Seccomp))
	binary.NativeEndian.PutUint32(b, uint32(len(js)))
	b = append(b, js...)
	for _, f := range c.Seccomp {
		b = binary.NativeEndian.AppendUint16(b, f.Code)
		b = append(b, f.Jt, f.Jf)
		b = binary.NativeEndian.AppendUint32(b, f.K)
	}
	return b, nil
}

// Decode reads what Encode wrote.
func Decode(b []byte) (*Init, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("init config: %d bytes, too short for its header", len(b))
	}
	n := uint64(binary.NativeEndian.Uint32(b))
	if n > uint64(len(b)-4) {
		return nil, fmt.Errorf("init config: header says %d bytes of JSON, %d follow", n, len(b)-4)
	}
	var c Init
	if err := json.Unmarshal(b[4:4+n], &c); err != nil {
		return nil, err
	}
	raw := b[4+n:]
	if len(raw)%8 != 0 {
		return nil, fmt.Errorf("seccomp program: %d bytes is not a whole number of instructions", len(raw))
	}
	if len(raw) > 0 {
		c.Seccomp = make(Program, len(raw)/8)
		for i := range c.Seccomp {
			f := raw[8*i:]
			c.Seccomp[i] = SockFilter{Code: binary.NativeEndian.Uint16(f), Jt: f[2], Jf: f[3], K: binary.NativeEndian.Uint32(f[4:])}
		}
	}
	return &c, nil
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
	Type  string `json:"type"`            // "ready", "error", "pty", "hooks", "hooks-done"
	Error string `json:"error,omitempty"` // set when Type is "error"
	Pid   int    `json:"pid,omitempty"`
}
