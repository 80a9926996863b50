package config

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The wire format of init's config: length-prefixed fields in a fixed
// order, no field names and no reflection. Decoding it costs init a few
// microseconds; decoding the same config as JSON cost a cold process about
// 0.4 ms, building encoding/json's per-type decoders for the spec's types
// (bench/README.md), on the critical path of every container start.
//
// Each nil slice, map or pointer is told apart from an empty or zero one,
// so what init decodes is what the runtime sent (TestWireRoundTrip fills
// every field by reflection). Integers are varints; strings and byte slices
// are a length and the bytes; lengths are checked against what is left, so
// a short or hostile message fails cleanly (FuzzDecode).

// wireVersion changes whenever the field order does: trustbox and its init
// must come from one build (ADR 0006), and a mismatch is refused.
const wireVersion = 2

type writer struct{ b []byte }

func (w *writer) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) int(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *writer) str(s string) { w.uint(uint64(len(s))); w.b = append(w.b, s...) }

// count writes a collection's length plus one, or 0 when it is nil.
func (w *writer) count(n int, isNil bool) {
	if isNil {
		w.uint(0)
	} else {
		w.uint(uint64(n) + 1)
	}
}
func (w *writer) bytes(b []byte) {
	w.count(len(b), b == nil)
	w.b = append(w.b, b...)
}
func (w *writer) strs(ss []string) {
	w.count(len(ss), ss == nil)
	for _, s := range ss {
		w.str(s)
	}
}
func (w *writer) strMap(m map[string]string) {
	w.count(len(m), m == nil)
	for k, v := range m {
		w.str(k)
		w.str(v)
	}
}

// present writes whether a pointer is set.
func present[T any](w *writer, p *T) bool {
	w.bool(p != nil)
	return p != nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("init config: truncated or malformed %s", what)
	}
}

func (r *reader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("number")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("number")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bool() bool {
	if len(r.b) == 0 || r.b[0] > 1 {
		r.fail("flag")
		r.b = nil
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

// take returns the next n bytes.
func (r *reader) take(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail("field")
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.take(r.uint())) }

// count reads what writer.count wrote: the length, and whether it was nil.
// Every element takes at least one byte, which bounds the length by what
// is left of the message.
func (r *reader) count() (int, bool) {
	n := r.uint()
	if n == 0 {
		return 0, true
	}
	if n-1 > uint64(len(r.b)) {
		r.fail("length")
		r.b = nil
		return 0, true
	}
	return int(n - 1), false
}

func (r *reader) bytes() []byte {
	n, isNil := r.count()
	if isNil {
		return nil
	}
	return append([]byte{}, r.take(uint64(n))...)
}

func (r *reader) strs() []string {
	n, isNil := r.count()
	if isNil {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

func (r *reader) strMap() map[string]string {
	n, isNil := r.count()
	if isNil {
		return nil
	}
	m := make(map[string]string, n)
	for i := 0; i < n; i++ {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

func (r *reader) int32() int32 {
	v := r.int()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("32-bit number")
	}
	return int32(v)
}

func (r *reader) uint32() uint32 {
	v := r.uint()
	if v > math.MaxUint32 {
		r.fail("32-bit number")
	}
	return uint32(v)
}

// slice decodes a collection written with writer.count, one element by f.
func slice[T any](r *reader, f func(*reader) T) []T {
	n, isNil := r.count()
	if isNil {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = f(r)
	}
	return out
}

// ptr decodes an optional value written after present.
func ptr[T any](r *reader, f func(*reader) T) *T {
	if !r.bool() {
		return nil
	}
	v := f(r)
	return &v
}

func encodeInit(w *writer, c *Init) {
	w.uint(wireVersion)
	w.str(c.ID)
	w.str(c.Rootfs)
	w.bool(c.RootfsIdmapped)
	w.count(len(c.IdmappedMounts), c.IdmappedMounts == nil)
	for _, i := range c.IdmappedMounts {
		w.int(int64(i))
	}
	w.strs(c.PremadeCgroups)
	w.strs(c.PremadeDevices)
	w.bool(c.Exec)
	w.bool(c.NoPivot)
	w.strMap(c.CgroupDirs)
	w.bool(c.UserNS)
	w.bool(c.RuntimeHooks)
	w.bool(c.SharedMounts)
	w.int(int64(c.HostProcFd))
	w.bytes(c.State)
	w.count(len(c.Seccomp), c.Seccomp == nil)
	for _, f := range c.Seccomp {
		w.b = binary.NativeEndian.AppendUint16(w.b, f.Code)
		w.b = append(w.b, f.Jt, f.Jf)
		w.b = binary.NativeEndian.AppendUint32(w.b, f.K)
	}
	w.uint(uint64(c.SeccompFlags))
	w.int(int64(c.SeccompAgentFd))
	w.bytes(c.SeccompState)
	if present(w, c.Spec) {
		encodeSpec(w, c.Spec)
	}
}

func decodeInit(r *reader) *Init {
	if v := r.uint(); v != wireVersion && r.err == nil {
		r.err = fmt.Errorf("init config: wire version %d, this init reads %d (trustbox and trustbox-init from different builds?)", v, wireVersion)
		return nil
	}
	c := &Init{ID: r.str(), Rootfs: r.str(), RootfsIdmapped: r.bool()}
	c.IdmappedMounts = slice(r, func(r *reader) int { return int(r.int32()) })
	c.PremadeCgroups, c.PremadeDevices = r.strs(), r.strs()
	c.Exec, c.NoPivot = r.bool(), r.bool()
	c.CgroupDirs = r.strMap()
	c.UserNS, c.RuntimeHooks, c.SharedMounts = r.bool(), r.bool(), r.bool()
	c.HostProcFd = int(r.int32())
	c.State = r.bytes()
	c.Seccomp = slice(r, func(r *reader) SockFilter {
		b := r.take(8)
		if len(b) < 8 {
			return SockFilter{}
		}
		return SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	})
	c.SeccompFlags = uint(r.uint())
	c.SeccompAgentFd = int(r.int32())
	c.SeccompState = r.bytes()
	c.Spec = ptr(r, decodeSpec)
	return c
}

// encodeSpec writes the parts of a spec init applies (runtime.forInit
// keeps exactly these).
func encodeSpec(w *writer, s *specs.Spec) {
	w.str(s.Version)
	if present(w, s.Process) {
		encodeProcess(w, s.Process)
	}
	if present(w, s.Root) {
		w.str(s.Root.Path)
		w.bool(s.Root.Readonly)
	}
	w.str(s.Hostname)
	w.str(s.Domainname)
	w.count(len(s.Mounts), s.Mounts == nil)
	for _, m := range s.Mounts {
		w.str(m.Destination)
		w.str(m.Type)
		w.str(m.Source)
		w.strs(m.Options)
		idMaps(w, m.UIDMappings)
		idMaps(w, m.GIDMappings)
	}
	if present(w, s.Hooks) {
		hooks(w, s.Hooks.CreateContainer)
		hooks(w, s.Hooks.StartContainer)
	}
	if present(w, s.Linux) {
		encodeLinux(w, s.Linux)
	}
}

func decodeSpec(r *reader) specs.Spec {
	s := specs.Spec{Version: r.str()}
	s.Process = ptr(r, decodeProcess)
	s.Root = ptr(r, func(r *reader) specs.Root { return specs.Root{Path: r.str(), Readonly: r.bool()} })
	s.Hostname, s.Domainname = r.str(), r.str()
	s.Mounts = slice(r, func(r *reader) specs.Mount {
		return specs.Mount{Destination: r.str(), Type: r.str(), Source: r.str(), Options: r.strs(),
			UIDMappings: readIDMaps(r), GIDMappings: readIDMaps(r)}
	})
	s.Hooks = ptr(r, func(r *reader) specs.Hooks {
		return specs.Hooks{CreateContainer: readHooks(r), StartContainer: readHooks(r)}
	})
	s.Linux = ptr(r, decodeLinux)
	return s
}

func encodeProcess(w *writer, p *specs.Process) {
	w.bool(p.Terminal)
	if present(w, p.ConsoleSize) {
		w.uint(uint64(p.ConsoleSize.Height))
		w.uint(uint64(p.ConsoleSize.Width))
	}
	w.uint(uint64(p.User.UID))
	w.uint(uint64(p.User.GID))
	if present(w, p.User.Umask) {
		w.uint(uint64(*p.User.Umask))
	}
	w.count(len(p.User.AdditionalGids), p.User.AdditionalGids == nil)
	for _, g := range p.User.AdditionalGids {
		w.uint(uint64(g))
	}
	w.str(p.User.Username)
	w.strs(p.Args)
	w.strs(p.Env)
	w.str(p.Cwd)
	if c := p.Capabilities; present(w, c) {
		w.strs(c.Bounding)
		w.strs(c.Effective)
		w.strs(c.Inheritable)
		w.strs(c.Permitted)
		w.strs(c.Ambient)
	}
	w.count(len(p.Rlimits), p.Rlimits == nil)
	for _, l := range p.Rlimits {
		w.str(l.Type)
		w.uint(l.Hard)
		w.uint(l.Soft)
	}
	w.bool(p.NoNewPrivileges)
	w.str(p.ApparmorProfile)
	if s := p.Scheduler; present(w, s) {
		w.str(string(s.Policy))
		w.int(int64(s.Nice))
		w.int(int64(s.Priority))
		w.count(len(s.Flags), s.Flags == nil)
		for _, f := range s.Flags {
			w.str(string(f))
		}
		w.uint(s.Runtime)
		w.uint(s.Deadline)
		w.uint(s.Period)
	}
	w.str(p.SelinuxLabel)
	if io := p.IOPriority; present(w, io) {
		w.str(string(io.Class))
		w.int(int64(io.Priority))
	}
	if a := p.ExecCPUAffinity; present(w, a) {
		w.str(a.Initial)
		w.str(a.Final)
	}
}

func decodeProcess(r *reader) specs.Process {
	var p specs.Process
	p.Terminal = r.bool()
	p.ConsoleSize = ptr(r, func(r *reader) specs.Box { return specs.Box{Height: uint(r.uint()), Width: uint(r.uint())} })
	p.User.UID, p.User.GID = r.uint32(), r.uint32()
	p.User.Umask = ptr(r, (*reader).uint32)
	p.User.AdditionalGids = slice(r, (*reader).uint32)
	p.User.Username = r.str()
	p.Args, p.Env, p.Cwd = r.strs(), r.strs(), r.str()
	p.Capabilities = ptr(r, func(r *reader) specs.LinuxCapabilities {
		return specs.LinuxCapabilities{Bounding: r.strs(), Effective: r.strs(), Inheritable: r.strs(), Permitted: r.strs(), Ambient: r.strs()}
	})
	p.Rlimits = slice(r, func(r *reader) specs.POSIXRlimit {
		return specs.POSIXRlimit{Type: r.str(), Hard: r.uint(), Soft: r.uint()}
	})
	p.NoNewPrivileges = r.bool()
	p.ApparmorProfile = r.str()
	p.Scheduler = ptr(r, func(r *reader) specs.Scheduler {
		s := specs.Scheduler{Policy: specs.LinuxSchedulerPolicy(r.str()), Nice: r.int32(), Priority: r.int32()}
		s.Flags = slice(r, func(r *reader) specs.LinuxSchedulerFlag { return specs.LinuxSchedulerFlag(r.str()) })
		s.Runtime, s.Deadline, s.Period = r.uint(), r.uint(), r.uint()
		return s
	})
	p.SelinuxLabel = r.str()
	p.IOPriority = ptr(r, func(r *reader) specs.LinuxIOPriority {
		return specs.LinuxIOPriority{Class: specs.IOPriorityClass(r.str()), Priority: int(r.int32())}
	})
	p.ExecCPUAffinity = ptr(r, func(r *reader) specs.CPUAffinity { return specs.CPUAffinity{Initial: r.str(), Final: r.str()} })
	return p
}

func encodeLinux(w *writer, l *specs.Linux) {
	idMaps(w, l.UIDMappings)
	idMaps(w, l.GIDMappings)
	w.strMap(l.Sysctl)
	w.count(len(l.Namespaces), l.Namespaces == nil)
	for _, ns := range l.Namespaces {
		w.str(string(ns.Type))
		w.str(ns.Path)
	}
	w.count(len(l.Devices), l.Devices == nil)
	for _, d := range l.Devices {
		w.str(d.Path)
		w.str(d.Type)
		w.int(d.Major)
		w.int(d.Minor)
		if present(w, d.FileMode) {
			w.uint(uint64(*d.FileMode))
		}
		if present(w, d.UID) {
			w.uint(uint64(*d.UID))
		}
		if present(w, d.GID) {
			w.uint(uint64(*d.GID))
		}
	}
	w.str(l.RootfsPropagation)
	w.strs(l.MaskedPaths)
	w.strs(l.ReadonlyPaths)
	w.str(l.MountLabel)
	if p := l.Personality; present(w, p) {
		w.str(string(p.Domain))
		w.count(len(p.Flags), p.Flags == nil)
		for _, f := range p.Flags {
			w.str(string(f))
		}
	}
	if m := l.MemoryPolicy; present(w, m) {
		w.str(string(m.Mode))
		w.str(m.Nodes)
		w.count(len(m.Flags), m.Flags == nil)
		for _, f := range m.Flags {
			w.str(string(f))
		}
	}
}

func decodeLinux(r *reader) specs.Linux {
	var l specs.Linux
	l.UIDMappings, l.GIDMappings = readIDMaps(r), readIDMaps(r)
	l.Sysctl = r.strMap()
	l.Namespaces = slice(r, func(r *reader) specs.LinuxNamespace {
		return specs.LinuxNamespace{Type: specs.LinuxNamespaceType(r.str()), Path: r.str()}
	})
	l.Devices = slice(r, func(r *reader) specs.LinuxDevice {
		d := specs.LinuxDevice{Path: r.str(), Type: r.str(), Major: r.int(), Minor: r.int()}
		d.FileMode = ptr(r, func(r *reader) os.FileMode { return os.FileMode(r.uint32()) })
		d.UID = ptr(r, (*reader).uint32)
		d.GID = ptr(r, (*reader).uint32)
		return d
	})
	l.RootfsPropagation = r.str()
	l.MaskedPaths, l.ReadonlyPaths = r.strs(), r.strs()
	l.MountLabel = r.str()
	l.Personality = ptr(r, func(r *reader) specs.LinuxPersonality {
		p := specs.LinuxPersonality{Domain: specs.LinuxPersonalityDomain(r.str())}
		p.Flags = slice(r, func(r *reader) specs.LinuxPersonalityFlag { return specs.LinuxPersonalityFlag(r.str()) })
		return p
	})
	l.MemoryPolicy = ptr(r, func(r *reader) specs.LinuxMemoryPolicy {
		m := specs.LinuxMemoryPolicy{Mode: specs.MemoryPolicyModeType(r.str()), Nodes: r.str()}
		m.Flags = slice(r, func(r *reader) specs.MemoryPolicyFlagType { return specs.MemoryPolicyFlagType(r.str()) })
		return m
	})
	return l
}

func idMaps(w *writer, ms []specs.LinuxIDMapping) {
	w.count(len(ms), ms == nil)
	for _, m := range ms {
		w.uint(uint64(m.ContainerID))
		w.uint(uint64(m.HostID))
		w.uint(uint64(m.Size))
	}
}

func readIDMaps(r *reader) []specs.LinuxIDMapping {
	return slice(r, func(r *reader) specs.LinuxIDMapping {
		return specs.LinuxIDMapping{ContainerID: r.uint32(), HostID: r.uint32(), Size: r.uint32()}
	})
}

func hooks(w *writer, hs []specs.Hook) {
	w.count(len(hs), hs == nil)
	for _, h := range hs {
		w.str(h.Path)
		w.strs(h.Args)
		w.strs(h.Env)
		if present(w, h.Timeout) {
			w.int(int64(*h.Timeout))
		}
	}
}

func readHooks(r *reader) []specs.Hook {
	return slice(r, func(r *reader) specs.Hook {
		h := specs.Hook{Path: r.str(), Args: r.strs(), Env: r.strs()}
		h.Timeout = ptr(r, func(r *reader) int { return int(r.int()) })
		return h
	})
}

var errTrailing = errors.New("init config: bytes left after the last field")
