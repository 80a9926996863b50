package hostaudit

import "github.com/trustbox/trustbox/internal/findings"

// kconfigRule grades the kernel's build configuration. Implements R-HOST-3
// where the kernel config tells (stack protector, CFI, W^X, ...).
type kconfigRule struct {
	rule  findings.Rule
	grade func(k *kernelConfig) (findings.Level, string)
}

func want(name string, else_ findings.Level) func(k *kernelConfig) (findings.Level, string) {
	return func(k *kernelConfig) (findings.Level, string) {
		if k.on(name) {
			return findings.Pass, "CONFIG_" + name + "=y"
		}
		return else_, "CONFIG_" + name + " is not set"
	}
}

var kconfigs = []kconfigRule{
	{hostRule("KCONFIG-STACKPROTECTOR", "hardening", "the kernel is built with the strong stack protector",
		"Stack canaries stop linear stack buffer overflows from reaching return addresses.",
		"use a kernel built with CONFIG_STACKPROTECTOR_STRONG=y (every distribution kernel is)", "R-HOST-3"),
		func(k *kernelConfig) (findings.Level, string) {
			switch {
			case k.on("STACKPROTECTOR_STRONG"):
				return findings.Pass, "CONFIG_STACKPROTECTOR_STRONG=y"
			case k.on("STACKPROTECTOR"):
				return findings.Warn, "CONFIG_STACKPROTECTOR=y without _STRONG"
			}
			return findings.Fail, "CONFIG_STACKPROTECTOR is not set"
		}},
	{hostRule("KCONFIG-CFI", "hardening", "the kernel has forward-edge control-flow integrity",
		"CFI (Clang kCFI, x86 IBT, arm64 BTI) stops code-reuse through corrupted function pointers.",
		"use a kernel built with CONFIG_CFI_CLANG=y or CONFIG_X86_KERNEL_IBT=y (arm64: CONFIG_ARM64_BTI_KERNEL=y)", "R-HOST-3"),
		func(k *kernelConfig) (findings.Level, string) {
			for _, n := range []string{"CFI_CLANG", "CFI", "X86_KERNEL_IBT", "ARM64_BTI_KERNEL"} {
				if k.on(n) {
					return findings.Pass, "CONFIG_" + n + "=y"
				}
			}
			return findings.Warn, "none of CONFIG_CFI_CLANG, CONFIG_X86_KERNEL_IBT, CONFIG_ARM64_BTI_KERNEL is set"
		}},
	{hostRule("KCONFIG-STRICT-RWX", "hardening", "kernel text is read-only and data is not executable",
		"W^X in the kernel stops injected code from running.",
		"use a kernel built with CONFIG_STRICT_KERNEL_RWX=y", "R-HOST-3"), want("STRICT_KERNEL_RWX", findings.Fail)},
	{hostRule("KCONFIG-KASLR", "hardening", "the kernel image base is randomised (KASLR)",
		"KASLR forces code-reuse exploits to first leak an address.",
		"use a kernel built with CONFIG_RANDOMIZE_BASE=y and do not boot with nokaslr", "R-HOST-3"), want("RANDOMIZE_BASE", findings.Fail)},
	{hostRule("KCONFIG-HARDENED-USERCOPY", "hardening", "copies between kernel and user memory are bounds-checked",
		"Hardened usercopy stops heap overflows and leaks through copy_to/from_user.",
		"use a kernel built with CONFIG_HARDENED_USERCOPY=y", "R-HOST-3"), want("HARDENED_USERCOPY", findings.Warn)},
	{hostRule("KCONFIG-FORTIFY", "hardening", "the kernel's string and memory functions are fortified",
		"FORTIFY_SOURCE turns many buffer overflows into a detected bug.",
		"use a kernel built with CONFIG_FORTIFY_SOURCE=y", "R-HOST-3"), want("FORTIFY_SOURCE", findings.Warn)},
	{hostRule("KCONFIG-SLAB-HARDENED", "hardening", "the slab allocator's freelists are hardened",
		"Freelist pointer obfuscation blocks a classic heap-overflow-to-write primitive.",
		"use a kernel built with CONFIG_SLAB_FREELIST_HARDENED=y", "R-HOST-3"), want("SLAB_FREELIST_HARDENED", findings.Warn)},
	{hostRule("KCONFIG-VMAP-STACK", "hardening", "kernel stacks have guard pages",
		"Virtually mapped stacks turn stack overflows into a clean oops instead of memory corruption.",
		"use a kernel built with CONFIG_VMAP_STACK=y", "R-HOST-3"), want("VMAP_STACK", findings.Warn)},
	{hostRule("KCONFIG-INIT-ON-ALLOC", "hardening", "kernel memory is zeroed on allocation by default",
		"Zeroing stops uninitialised-memory leaks; it can also be enabled with init_on_alloc=1.",
		"use CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y or boot with init_on_alloc=1", "R-HOST-3"),
		func(k *kernelConfig) (findings.Level, string) {
			if k.on("INIT_ON_ALLOC_DEFAULT_ON") {
				return findings.Pass, "CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y"
			}
			return findings.Info, "CONFIG_INIT_ON_ALLOC_DEFAULT_ON is not set (init_on_alloc=1 on the command line also works)"
		}},
	{hostRule("KCONFIG-DEVMEM", "hardening", "/dev/mem cannot expose kernel memory",
		"An unrestricted /dev/mem lets root patch the running kernel, bypassing every other hardening.",
		"use a kernel without CONFIG_DEVMEM, or with CONFIG_STRICT_DEVMEM=y and CONFIG_IO_STRICT_DEVMEM=y", "R-HOST-3", "R-TRUST-5"),
		func(k *kernelConfig) (findings.Level, string) {
			switch {
			case !k.on("DEVMEM"):
				return findings.Pass, "CONFIG_DEVMEM is not set"
			case k.on("STRICT_DEVMEM") && k.on("IO_STRICT_DEVMEM"):
				return findings.Pass, "CONFIG_STRICT_DEVMEM=y, CONFIG_IO_STRICT_DEVMEM=y"
			case k.on("STRICT_DEVMEM"):
				return findings.Warn, "CONFIG_STRICT_DEVMEM=y without CONFIG_IO_STRICT_DEVMEM"
			}
			return findings.Fail, "CONFIG_DEVMEM=y without CONFIG_STRICT_DEVMEM"
		}},
}

func (r kconfigRule) check() check {
	return check{Rule: r.rule, run: func(s *source) result {
		k, err := s.kconfig()
		if err != nil {
			return failed("/proc/config.gz", err)
		}
		if k == nil {
			return result{level: findings.Info, seen: "the kernel config is not published (no /proc/config.gz, no /boot/config-RELEASE)", where: "/proc/config.gz",
				fix: "enable CONFIG_IKCONFIG_PROC or install the kernel's /boot/config file so its build hardening can be audited"}
		}
		level, seen := r.grade(k)
		return result{level: level, seen: seen, where: k.where}
	}}
}

func init() {
	lazy(func() {
		for _, r := range kconfigs {
			register(r.check())
		}
	})
}
