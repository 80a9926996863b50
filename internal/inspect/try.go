package inspect

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ops are the forbidden operations the demo tries; each must fail.
var ops = map[string]func() error{
	"mount tmpfs on /mnt": func() error { return unix.Mount("tmpfs", "/mnt", "tmpfs", 0, "") },
	"remount / read-write": func() error {
		return unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND, "")
	},
	"write /proc/sys/kernel/domainname": func() error { return os.WriteFile("/proc/sys/kernel/domainname", []byte("x"), 0) },
	"write /sys/kernel/uevent_helper":   func() error { return os.WriteFile("/sys/kernel/uevent_helper", []byte("/x"), 0) },
	"create a file in the rootfs":       func() error { return os.WriteFile("/escape", []byte("x"), 0o644) },
	"mknod /tmp/sda (block device)":     func() error { return unix.Mknod("/tmp/sda", unix.S_IFBLK|0o600, int(unix.Mkdev(8, 0))) },
	"load a kernel module":              func() error { return errno(unix.Syscall(unix.SYS_INIT_MODULE, 0, 0, 0)) },
	"reboot the host":                   func() error { return unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF) },
	"ptrace (PTRACE_TRACEME)":           func() error { return errno(unix.Syscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)) },
	"unshare a user namespace":          func() error { return unix.Unshare(unix.CLONE_NEWUSER) },
	"bpf(BPF_PROG_LOAD)":                func() error { return errno(unix.Syscall(unix.SYS_BPF, 5, 0, 0)) },
	"set the system clock": func() error {
		tv := unix.Timeval{Sec: 1}
		return unix.Settimeofday(&tv)
	},
	"keyctl (kernel keyring)": func() error { return errno(unix.Syscall(unix.SYS_KEYCTL, 0, 0, 0)) },
	"open_by_handle_at": func() error {
		return errno(unix.Syscall(unix.SYS_OPEN_BY_HANDLE_AT, 0, uintptr(unsafe.Pointer(nil)), 0))
	},
	"chroot": func() error { return unix.Chroot("/tmp") },
}

func errno(_, _ uintptr, e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

func try(op string) int {
	f, ok := ops[op]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown operation %q\n", op)
		return 2
	}
	if err := f(); err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("succeeded")
	return 0
}
