package vtpm

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The kernel architecture (R-TRUST-3): /dev/vtpmx creates a TPM character
// device pair (/dev/tpmN, /dev/tpmrmN) whose other end is an fd swtpm
// serves; the container gets /dev/tpmrm0, the kernel's resource manager.
const (
	VtpmxPath = "/dev/vtpmx"
	// vtpmProxyFlagTPM2 asks for a TPM 2.0 device (VTPM_PROXY_FLAG_TPM2).
	vtpmProxyFlagTPM2 = 1
	// newDevSize is sizeof(struct vtpm_proxy_new_dev): five __u32.
	newDevSize = 20
)

// iowr encodes _IOWR(typ, nr, size) as Linux does on x86, arm and most
// others: dir (read|write = 3) in bits 30-31, size in 16-29, type 8-15, nr 0-7.
func iowr(typ, nr, size uint32) uint32 { return 3<<30 | size<<16 | typ<<8 | nr }

// ioctlNewDev is VTPM_PROXY_IOC_NEW_DEV = _IOWR(0xa1, 0x00, struct vtpm_proxy_new_dev).
var ioctlNewDev = iowr(0xa1, 0x00, newDevSize)

// proxyDev mirrors struct vtpm_proxy_new_dev (native endian).
type proxyDev struct {
	Flags, TPMNum, FD, Major, Minor uint32
}

func (d proxyDev) encode() []byte {
	b := make([]byte, 0, newDevSize)
	for _, v := range []uint32{d.Flags, d.TPMNum, d.FD, d.Major, d.Minor} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b
}

func decodeProxyDev(b []byte) (proxyDev, error) {
	if len(b) != newDevSize {
		return proxyDev{}, fmt.Errorf("vtpm_proxy_new_dev: %d bytes, want %d", len(b), newDevSize)
	}
	u := func(i int) uint32 { return binary.NativeEndian.Uint32(b[4*i:]) }
	return proxyDev{u(0), u(1), u(2), u(3), u(4)}, nil
}

// ProxyDevice is one kernel vTPM: Server is the fd swtpm serves (pass it
// with `swtpm chardev --fd`), TPMNum names /dev/tpmN and /dev/tpmrmN.
type ProxyDevice struct {
	Server       *os.File
	TPMNum       uint32
	Major, Minor uint32 // of /dev/tpmN
	// open connects the manager to the TPM once swtpm serves Server:
	// /dev/tpmN, waiting for the kernel to register it.
	open func(ctx context.Context) (dataConn, error)
}

// NewProxyDevice asks the kernel for a new TPM 2.0 device through vtpmx.
func NewProxyDevice(vtpmx string) (*ProxyDevice, error) {
	f, err := os.OpenFile(vtpmx, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", vtpmx, err)
	}
	defer f.Close()
	buf := proxyDev{Flags: vtpmProxyFlagTPM2}.encode()
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), uintptr(ioctlNewDev), uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
		return nil, fmt.Errorf("VTPM_PROXY_IOC_NEW_DEV on %s: %w", vtpmx, errno)
	}
	d, err := decodeProxyDev(buf)
	if err != nil {
		return nil, err
	}
	n := d.TPMNum
	return &ProxyDevice{Server: os.NewFile(uintptr(d.FD), "vtpm-proxy-server"), TPMNum: n, Major: d.Major, Minor: d.Minor,
		open: func(ctx context.Context) (dataConn, error) { return openDevNode(ctx, "/dev", n) }}, nil
}

// SwtpmArgs are the swtpm arguments serving a proxy device on fd 3, with
// its control channel on fd 4 (a socket only the manager holds) and its
// state key on fd 5. allow-set-locality lets the kernel's driver send
// TPM2_SetLocality (the kernel never forwards one from user space).
func SwtpmArgs(stateDir string) []string {
	return []string{"chardev", "--tpm2", "--fd", "3", "--ctrl", "type=unixio,fd=4", "--locality", "allow-set-locality",
		"--key", "fd=5,mode=aes-256-cbc,format=binary",
		"--tpmstate", "dir=" + stateDir + ",mode=0600", "--flags", "not-need-init,startup-clear"}
}

// connectProxy opens the manager's TPM channel to a kernel vTPM (the
// host's /dev/tpmN) and its control channel.
func connectProxy(ctx context.Context, dir string, proc *process, d *ProxyDevice) (*Instance, error) {
	if d.open == nil {
		return nil, fmt.Errorf("kernel vTPM %d: no way to open it", d.TPMNum)
	}
	f, err := d.open(ctx)
	if err != nil {
		return nil, err
	}
	return withCtrl(ctx, dir, proc, f)
}

// rmDevNumber reads /sys/class/tpmrm/tpmrmN/dev ("major:minor").
func rmDevNumber(sysfs string, n uint32) (uint32, uint32, error) {
	p := filepath.Join(sysfs, "class", "tpmrm", fmt.Sprintf("tpmrm%d", n), "dev")
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, 0, err
	}
	return parseDevNumber(strings.TrimSpace(string(b)))
}

func parseDevNumber(s string) (uint32, uint32, error) {
	maj, min, ok := strings.Cut(s, ":")
	a, err1 := strconv.ParseUint(maj, 10, 32)
	b, err2 := strconv.ParseUint(min, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("device number %q is not major:minor", s)
	}
	return uint32(a), uint32(b), nil
}

// DeviceWiring is what the runtime adds to a container's config for a
// kernel vTPM: /dev/tpmrm0 backed by the host's tpmrmN, and the device
// cgroup rule allowing it (and nothing else of the TPM class).
func DeviceWiring(rmMajor, rmMinor uint32) (specs.LinuxDevice, specs.LinuxDeviceCgroup) {
	maj, min := int64(rmMajor), int64(rmMinor)
	mode := os.FileMode(0o660)
	uid, gid := uint32(0), uint32(0)
	return specs.LinuxDevice{Path: "/dev/tpmrm0", Type: "c", Major: maj, Minor: min, FileMode: &mode, UID: &uid, GID: &gid},
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &maj, Minor: &min, Access: "rw"}
}

// Wiring returns the container device and cgroup rule for this proxy device.
func (d *ProxyDevice) Wiring() (specs.LinuxDevice, specs.LinuxDeviceCgroup, error) {
	maj, min, err := rmDevNumber("/sys", d.TPMNum)
	if err != nil {
		return specs.LinuxDevice{}, specs.LinuxDeviceCgroup{}, fmt.Errorf("tpmrm%d: %w", d.TPMNum, err)
	}
	dev, rule := DeviceWiring(maj, min)
	return dev, rule, nil
}
