package cgroups

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroup v2 has no devices controller: device access is decided by an eBPF
// program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup. This file
// compiles OCI device rules into one and attaches it (R-TRUST-5).

const (
	progTypeCgroupDevice = 15 // BPF_PROG_TYPE_CGROUP_DEVICE
	attachCgroupDevice   = 6  // BPF_CGROUP_DEVICE
	devBlock, devChar    = 1, 2
	accMknod, accRead    = 1, 2
	accWrite             = 4
)

// eBPF opcodes used by the device program.
const (
	ldxW   = 0x61 // r_dst = *(u32 *)(r_src + off)
	mov64X = 0xbf
	mov64K = 0xb7
	and64K = 0x57
	rsh64K = 0x77
	jneK   = 0x55 // if r_dst != imm goto +off
	jsetK  = 0x45 // if r_dst & imm goto +off
	exitOp = 0x95
)

type insn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

// deviceProgram compiles rules with the v1 devices semantics (the last rule
// that matches decides; nothing matches: deny) into eBPF instructions over
// struct bpf_cgroup_dev_ctx {access_type, major, minor}.
func deviceProgram(rules []specs.LinuxDeviceCgroup) []insn {
	p := []insn{
		{code: ldxW, dst: 2, src: 1, off: 0}, // r2 = access_type: (access << 16) | type
		{code: ldxW, dst: 4, src: 1, off: 4}, // r4 = major
		{code: ldxW, dst: 5, src: 1, off: 8}, // r5 = minor
		{code: mov64X, dst: 3, src: 2},
		{code: and64K, dst: 3, imm: 0xffff}, // r3 = device type
		{code: rsh64K, dst: 2, imm: 16},     // r2 = requested access
	}
	for i := len(rules) - 1; i >= 0; i-- { // the last matching rule wins
		block, always := ruleBlock(rules[i])
		p = append(p, block...)
		if always {
			return p // earlier rules can never decide: the verifier refuses unreachable code
		}
	}
	return append(p, insn{code: mov64K, dst: 0, imm: 0}, insn{code: exitOp})
}

// ruleBlock returns the rule's instructions and whether it matches every access.
func ruleBlock(r specs.LinuxDeviceCgroup) ([]insn, bool) {
	var tests []insn
	switch r.Type {
	case "c":
		tests = append(tests, insn{code: jneK, dst: 3, imm: devChar})
	case "b":
		tests = append(tests, insn{code: jneK, dst: 3, imm: devBlock})
	}
	if r.Major != nil && *r.Major >= 0 {
		tests = append(tests, insn{code: jneK, dst: 4, imm: int32(*r.Major)})
	}
	if r.Minor != nil && *r.Minor >= 0 {
		tests = append(tests, insn{code: jneK, dst: 5, imm: int32(*r.Minor)})
	}
	if other := 7 &^ accessBits(r.Access); other != 0 {
		tests = append(tests, insn{code: jsetK, dst: 2, imm: other}) // asks for an access the rule does not cover
	}
	allow := int32(0)
	if r.Allow {
		allow = 1
	}
	tail := []insn{{code: mov64K, dst: 0, imm: allow}, {code: exitOp}}
	for i := range tests { // each test skips the rest of the block
		tests[i].off = int16(len(tests) - 1 - i + len(tail))
	}
	return append(tests, tail...), len(tests) == 0
}

func accessBits(a string) int32 {
	if a == "" {
		return 7
	}
	var b int32
	for _, c := range a {
		switch c {
		case 'r':
			b |= accRead
		case 'w':
			b |= accWrite
		case 'm':
			b |= accMknod
		}
	}
	return b
}

func encode(p []insn) []byte {
	out := make([]byte, 8*len(p))
	for i, in := range p {
		b := out[8*i:]
		b[0], b[1] = in.code, in.dst|in.src<<4
		binary.LittleEndian.PutUint16(b[2:], uint16(in.off))
		binary.LittleEndian.PutUint32(b[4:], uint32(in.imm))
	}
	return out
}

// AttachDeviceFilter loads the rules' program and attaches it to the cgroup
// v2 directory dir, exclusively: a cgroup has one device program.
func AttachDeviceFilter(dir string, rules []specs.LinuxDeviceCgroup) error {
	code := encode(deviceProgram(rules))
	license := []byte("Apache-2.0\x00")
	logBuf := make([]byte, 16<<10)
	load := make([]byte, 128) // union bpf_attr, BPF_PROG_LOAD
	binary.NativeEndian.PutUint32(load[0:], progTypeCgroupDevice)
	binary.NativeEndian.PutUint32(load[4:], uint32(len(code)/8))
	binary.NativeEndian.PutUint64(load[8:], uint64(uintptr(unsafe.Pointer(&code[0]))))
	binary.NativeEndian.PutUint64(load[16:], uint64(uintptr(unsafe.Pointer(&license[0]))))
	binary.NativeEndian.PutUint32(load[24:], 1)
	binary.NativeEndian.PutUint32(load[28:], uint32(len(logBuf)))
	binary.NativeEndian.PutUint64(load[32:], uint64(uintptr(unsafe.Pointer(&logBuf[0]))))
	prog, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(&load[0])), uintptr(len(load)))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if errno != 0 {
		return fmt.Errorf("load device filter (%d rules): %w: %s", len(rules), errno, cstr(logBuf))
	}
	defer unix.Close(int(prog))
	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("device filter: open %s: %w", dir, err)
	}
	defer unix.Close(cg)
	attach := make([]byte, 32) // BPF_PROG_ATTACH
	binary.NativeEndian.PutUint32(attach[0:], uint32(cg))
	binary.NativeEndian.PutUint32(attach[4:], uint32(prog))
	binary.NativeEndian.PutUint32(attach[8:], attachCgroupDevice)
	if _, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_ATTACH, uintptr(unsafe.Pointer(&attach[0])), uintptr(len(attach))); errno != 0 {
		return fmt.Errorf("attach device filter to %s: %w", dir, errno)
	}
	return nil
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// DeviceFilterCount says how many device programs are attached to dir.
func DeviceFilterCount(dir string) (int, error) {
	cg, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(cg)
	q := make([]byte, 40) // BPF_PROG_QUERY: target_fd, attach_type, query_flags, attach_flags, prog_ids, prog_cnt
	binary.NativeEndian.PutUint32(q[0:], uint32(cg))
	binary.NativeEndian.PutUint32(q[4:], attachCgroupDevice)
	if _, _, errno := unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_QUERY, uintptr(unsafe.Pointer(&q[0])), uintptr(len(q))); errno != 0 {
		return 0, fmt.Errorf("query device filters of %s: %w", dir, errno)
	}
	return int(binary.NativeEndian.Uint32(q[24:])), nil
}
