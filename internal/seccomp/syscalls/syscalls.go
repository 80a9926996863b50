package syscalls

import (
	"fmt"
	"sort"
	"sync"
)

// Audit architecture tokens (linux/audit.h) that seccomp_data.arch carries.
const (
	AuditX86_64  uint32 = 0xc000003e
	AuditI386    uint32 = 0x40000003
	AuditAARCH64 uint32 = 0xc00000b7
	AuditARM     uint32 = 0x40000028
)

// X32Bit is set in seccomp_data.nr for x32 calls, which share AuditX86_64.
const X32Bit uint32 = 0x40000000

// Arch describes one filter architecture in libseccomp's naming.
type Arch struct {
	Name   string // SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, ...
	Audit  uint32 // value of seccomp_data.arch
	NrBase uint32 // added to every table number (X32Bit for x32)
	Bits   int    // 64 or 32: width of the arguments the kernel passes
}

var arches = map[string]Arch{
	"SCMP_ARCH_X86_64":  {"SCMP_ARCH_X86_64", AuditX86_64, 0, 64},
	"SCMP_ARCH_X86":     {"SCMP_ARCH_X86", AuditI386, 0, 32},
	"SCMP_ARCH_X32":     {"SCMP_ARCH_X32", AuditX86_64, X32Bit, 64}, // x32 runs on 64-bit registers
	"SCMP_ARCH_AARCH64": {"SCMP_ARCH_AARCH64", AuditAARCH64, 0, 64},
	"SCMP_ARCH_ARM":     {"SCMP_ARCH_ARM", AuditARM, 0, 32},
}

// LookupArch returns the architecture named by libseccomp's SCMP_ARCH_* token.
func LookupArch(name string) (Arch, bool) {
	a, ok := arches[name]
	return a, ok
}

// Arches lists the supported architecture names, sorted.
func Arches() []string {
	out := make([]string, 0, len(arches))
	for n := range arches {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Number returns the value seccomp_data.nr carries for name on arch
// (including x32's bit), and whether arch has that call.
func (a Arch) Number(name string) (uint32, bool) {
	nr, ok := tables()[a.Name][name]
	return nr + a.NrBase, ok
}

// CallName returns the call name for a seccomp_data.nr value on arch.
func (a Arch) CallName(nr uint32) (string, bool) {
	byNr := reverse(a.Name)
	n, ok := byNr[nr-a.NrBase]
	if !ok || nr < a.NrBase {
		return "", false
	}
	return n, true
}

// Numbers returns every call number arch has (with NrBase applied), ascending.
func (a Arch) Numbers() []uint32 {
	var out []uint32
	for nr := range reverse(a.Name) {
		out = append(out, nr+a.NrBase)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Names returns every call name arch has, sorted.
func (a Arch) Names() []string {
	t := tables()[a.Name]
	out := make([]string, 0, len(t))
	for n := range t {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Known reports whether name is a Linux system call on any architecture,
// including ones trustbox does not compile for (mips, ppc, s390, riscv, ...).
func Known(name string) bool {
	for _, t := range tables() {
		if _, ok := t[name]; ok {
			return true
		}
	}
	buildOnce.Do(build)
	return otherSet[name]
}

// Resolve is Number with an error naming the call and architecture.
func (a Arch) Resolve(name string) (uint32, error) {
	if nr, ok := a.Number(name); ok {
		return nr, nil
	}
	return 0, fmt.Errorf("system call %q does not exist on %s", name, a.Name)
}

// generators build, per arch, the call name -> number table; zz_*.go
// register them. The tables are built on first use (table), not at
// start-up: every trustbox process, container init included, links this
// package, and building ~2,000 map entries cost each one 0.1 ms.
var generators = map[string]func() map[string]uint32{}

var (
	tablesOnce sync.Once
	generated  map[string]map[string]uint32
)

// tables returns arch -> call name -> number, built once.
func tables() map[string]map[string]uint32 {
	tablesOnce.Do(func() {
		generated = make(map[string]map[string]uint32, len(generators))
		for a, g := range generators {
			generated[a] = g()
		}
	})
	return generated
}

var (
	reversed = map[string]map[uint32]string{}
	otherSet = map[string]bool{}
)

var buildOnce sync.Once

// build indexes the generated tables; zz_*.go fill them in their own init
// functions, which run after this file's, so it happens on first use.
func build() {
	for arch, t := range tables() {
		r := make(map[uint32]string, len(t))
		for n, nr := range t {
			if old, dup := r[nr]; !dup || n < old {
				r[nr] = n
			}
		}
		reversed[arch] = r
	}
	for _, n := range otherArchNames {
		otherSet[n] = true
	}
}

func reverse(arch string) map[uint32]string {
	buildOnce.Do(build)
	return reversed[arch]
}
