package config

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Init is everything init needs; the runtime has already validated and
// hardened the spec, so init applies it without second-guessing. Every
// field travels in wire.go's format (TestWireRoundTrip fails on one that
// does not).
type Init struct {
	ID     string
	Spec   *specs.Spec
	Rootfs string // absolute host path
	// RootfsIdmapped says the runtime sent, with this config, a detached
	// id-mapped mount of the rootfs to use instead of a plain bind.
	RootfsIdmapped bool
	// IdmappedMounts lists the mounts (by index) whose id-mapped bind the
	// runtime made and sent, in this order, after the rootfs mount.
	IdmappedMounts []int
	// PremadeCgroups and PremadeDevices name the read-only binds of v1
	// cgroup directories (by hierarchy key) and of host device nodes (by
	// path) the runtime made and sent, in this order, after the id-mapped
	// mounts; init attaches them instead of cloning its own.
	PremadeCgroups []string
	PremadeDevices []string
	// Exec is set when init joins a running container instead of creating one.
	Exec bool
	// NoPivot uses MS_MOVE + chroot instead of pivot_root (runc --no-pivot).
	NoPivot bool
	// CgroupDirs are the container's host cgroup directories, bind-mounted
	// read-only where a "cgroup" mount asks for cgroupfs on a v1 host.
	CgroupDirs map[string]string
	// UserNS tells init it runs in a new user namespace (device nodes are bind-mounted, not created).
	UserNS bool
	// RuntimeHooks says the config has prestart or createRuntime hooks: init
	// stops before createContainer hooks and pivot_root, asks the runtime to
	// run them ({"type":"hooks"}) and waits for {"type":"hooks-done"}.
	RuntimeHooks bool
	// SharedMounts says init is in a running container's mount namespace,
	// joined by path (the nsenter constructor entered it): init leaves it
	// as it is, no mounts and no pivot_root. HostProcFd is then an O_PATH
	// handle on the host's /proc, passed by the runtime.
	SharedMounts bool
	HostProcFd   int
	// State is the OCI state JSON given to hooks run by init.
	State []byte
	// Seccomp is the compiled filter (struct sock_filter array), installed
	// last; it travels as raw instructions (Encode).
	Seccomp Program
	// SeccompFlags are seccomp(2) SECCOMP_FILTER_FLAG_* bits.
	SeccompFlags uint
	// SeccompAgentFd is a socket connected to the profile's listenerPath
	// (SCMP_ACT_NOTIFY); init sends it SeccompState and the listener.
	SeccompAgentFd int
	SeccompState   []byte
}

// Program is a compiled seccomp filter (struct sock_filter array).
type Program []SockFilter

// Encode is init's config on the wire (wire.go): its fields in a fixed
// order, the seccomp filter as raw 8-byte instructions (native byte order,
// as the kernel takes them).
func Encode(c *Init) []byte {
	w := &writer{b: make([]byte, 0, 4096+8*len(c.Seccomp))}
	encodeInit(w, c)
	return w.b
}

// Decode reads what Encode wrote, all of it.
func Decode(b []byte) (*Init, error) {
	r := &reader{b: b}
	c := decodeInit(r)
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) > 0 {
		return nil, errTrailing
	}
	return c, nil
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

// ForInit is the spec as init applies it: the fields wire.go carries, and
// nothing the runtime alone uses (linux.seccomp, compiled already; the
// cgroup resources; annotations; the hooks the runtime runs itself; the
// oom_score_adj the runtime writes). A field init starts to use must be
// added here and to wire.go.
func ForInit(s *specs.Spec) *specs.Spec {
	c := &specs.Spec{Version: s.Version, Root: s.Root, Hostname: s.Hostname, Domainname: s.Domainname, Mounts: s.Mounts}
	if p := s.Process; p != nil {
		c.Process = &specs.Process{Terminal: p.Terminal, ConsoleSize: p.ConsoleSize, User: p.User, Args: p.Args,
			Env: p.Env, Cwd: p.Cwd, Capabilities: p.Capabilities, Rlimits: p.Rlimits, NoNewPrivileges: p.NoNewPrivileges,
			ApparmorProfile: p.ApparmorProfile, Scheduler: p.Scheduler, SelinuxLabel: p.SelinuxLabel,
			IOPriority: p.IOPriority, ExecCPUAffinity: p.ExecCPUAffinity}
	}
	if h := s.Hooks; h != nil && len(h.CreateContainer)+len(h.StartContainer) > 0 {
		c.Hooks = &specs.Hooks{CreateContainer: h.CreateContainer, StartContainer: h.StartContainer}
	}
	if l := s.Linux; l != nil {
		c.Linux = &specs.Linux{UIDMappings: l.UIDMappings, GIDMappings: l.GIDMappings, Sysctl: l.Sysctl,
			Namespaces: l.Namespaces, Devices: l.Devices, RootfsPropagation: l.RootfsPropagation,
			MaskedPaths: l.MaskedPaths, ReadonlyPaths: l.ReadonlyPaths, MountLabel: l.MountLabel,
			Personality: l.Personality, MemoryPolicy: l.MemoryPolicy}
	}
	return c
}
