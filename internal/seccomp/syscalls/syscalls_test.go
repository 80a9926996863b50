package syscalls

import "testing"

// Known numbers from the kernel's syscall tables; x32 must carry its bit and
// use its own entry points (R-LSM-d: call numbers depend on the architecture).
func TestNumbers(t *testing.T) {
	cases := []struct {
		arch, name string
		want       uint32
		ok         bool
	}{
		{"SCMP_ARCH_X86_64", "read", 0, true},
		{"SCMP_ARCH_X86_64", "ptrace", 101, true},
		{"SCMP_ARCH_X86_64", "mseal", 462, true},
		{"SCMP_ARCH_X86_64", "listmount", 458, true},
		{"SCMP_ARCH_X86", "read", 3, true},
		{"SCMP_ARCH_X86", "socketcall", 102, true},
		{"SCMP_ARCH_X86", "mseal", 462, true},
		{"SCMP_ARCH_X32", "read", X32Bit, true},
		{"SCMP_ARCH_X32", "ptrace", X32Bit + 521, true},
		{"SCMP_ARCH_X32", "mseal", X32Bit + 462, true},
		{"SCMP_ARCH_X32", "map_shadow_stack", 0, false},
		{"SCMP_ARCH_AARCH64", "openat", 56, true},
		{"SCMP_ARCH_AARCH64", "open", 0, false},
		{"SCMP_ARCH_ARM", "set_tls", 0x0f0005, true},
	}
	for _, c := range cases {
		a, ok := LookupArch(c.arch)
		if !ok {
			t.Fatalf("arch %s missing", c.arch)
		}
		nr, ok := a.Number(c.name)
		if ok != c.ok || (ok && nr != c.want) {
			t.Errorf("%s %s = %d,%v want %d,%v", c.arch, c.name, nr, ok, c.want, c.ok)
		}
		if ok {
			if n, _ := a.CallName(nr); n != c.name {
				t.Errorf("%s CallName(%d) = %q want %q", c.arch, nr, n, c.name)
			}
		}
	}
	if !Known("s390_pci_mmio_read") || !Known("riscv_flush_icache") || Known("no_such_call") {
		t.Error("Known gives wrong answers for other-arch or unknown names")
	}
}

// Every architecture has its table (a file named zz_arm.go would silently
// build only on arm).
func TestEveryTableLoaded(t *testing.T) {
	for _, n := range Arches() {
		a, _ := LookupArch(n)
		if got := len(a.Numbers()); got < 300 {
			t.Errorf("%s has %d calls", n, got)
		}
	}
}
