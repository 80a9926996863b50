package vtpm

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/google/go-tpm/tpm2/transport"
	"golang.org/x/sys/unix"
)

// The two ways a container reaches its vTPM (CreateRequest.Arch).
const (
	// ArchDaemon serves the vTPM through the manager's adapter socket,
	// bind-mounted at /run/tpm (R-TRUST-4). The default.
	ArchDaemon = "daemon"
	// ArchKernel creates a kernel vTPM through /dev/vtpmx and gives the
	// container /dev/tpmrm0 (R-TRUST-3).
	ArchKernel = "kernel"
)

// ContainerDevice is where a kernel vTPM appears inside the container.
const ContainerDevice = "/dev/tpmrm0"

// archOf normalises a requested architecture ("" is the daemon's).
func archOf(a string) (string, error) {
	switch a {
	case "", ArchDaemon:
		return ArchDaemon, nil
	case ArchKernel:
		return ArchKernel, nil
	}
	return "", fmt.Errorf("unknown vTPM architecture %q (want %q or %q)", a, ArchDaemon, ArchKernel)
}

// kernelRecord is what the manager keeps about a kernel vTPM's device.
type kernelRecord struct {
	TPMNum  uint32 `json:"tpm_num"`
	RMPath  string `json:"rm_path"` // the host's /dev/tpmrmN
	RMMajor uint32 `json:"rm_major"`
	RMMinor uint32 `json:"rm_minor"`
}

// kernelTPMs makes and opens kernel vTPMs; hostKernel drives the host's
// tpm_vtpm_proxy, and tests give swtpm a stand-in for the kernel's end.
type kernelTPMs interface {
	// create asks the kernel for a new TPM 2.0 device.
	create() (*ProxyDevice, error)
	// open connects the manager to /dev/tpmN of an existing device.
	open(ctx context.Context, n uint32) (dataConn, error)
	// rmDevice is the host's /dev/tpmrmN, the device containers get, and
	// its major:minor.
	rmDevice(n uint32) (path string, major, minor uint32, err error)
}

// hostKernel is the host's tpm_vtpm_proxy.
type hostKernel struct{ vtpmx string }

func (k hostKernel) create() (*ProxyDevice, error) {
	d, err := NewProxyDevice(k.vtpmx)
	if err != nil {
		return nil, fmt.Errorf("kernel vTPM (needs %s: modprobe tpm_vtpm_proxy): %w", k.vtpmx, err)
	}
	return d, nil
}

func (hostKernel) open(ctx context.Context, n uint32) (dataConn, error) {
	return openDevNode(ctx, "/dev", n)
}

func (hostKernel) rmDevice(n uint32) (string, uint32, uint32, error) {
	maj, min, err := rmDevNumber("/sys", n)
	return fmt.Sprintf("/dev/tpmrm%d", n), maj, min, err
}

// startKernelTPM writes a fresh state key into tdir, creates a kernel
// vTPM and starts swtpm serving it. hold is the manager's own copy of the
// device's server end: while it is open the kernel keeps the device, and so
// its number, even if swtpm dies, so no later vTPM can be given a number
// a running container is still allowed to open.
func (m *Manager) startKernelTPM(ctx context.Context, tdir string, uid uint32) (inst *Instance, hold *os.File, k *kernelRecord, err error) {
	dev, err := m.kernel.create()
	if err != nil {
		return nil, nil, nil, err
	}
	defer dev.Server.Close() // swtpm has its own copy once started
	fd, err := unix.FcntlInt(dev.Server.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kernel vTPM %d: keep its server end: %w", dev.TPMNum, err)
	}
	hold = os.NewFile(uintptr(fd), "vtpm-proxy-hold")
	defer func() {
		if err != nil {
			hold.Close()
		}
	}()
	if dev.open == nil {
		n := dev.TPMNum
		dev.open = func(ctx context.Context) (dataConn, error) { return m.kernel.open(ctx, n) }
	}
	key, err := newKey()
	if err != nil {
		return nil, nil, nil, err
	}
	defer zero(key)
	if err := os.WriteFile(tpmKey(tdir), key, 0o600); err != nil {
		return nil, nil, nil, fmt.Errorf("write state key: %w", err)
	}
	inst, err = Start(ctx, Config{StateDir: tpmState(tdir), Key: key, Binary: m.opts.Swtpm, Credential: credential(uid), Proxy: dev})
	if err != nil {
		return nil, nil, nil, err
	}
	path, maj, min, err := m.kernel.rmDevice(dev.TPMNum)
	if err != nil {
		inst.kill()
		return nil, nil, nil, fmt.Errorf("kernel vTPM tpmrm%d: %w", dev.TPMNum, err)
	}
	return inst, hold, &kernelRecord{TPMNum: dev.TPMNum, RMPath: path, RMMajor: maj, RMMinor: min}, nil
}

// attachKernel reconnects to the swtpm serving a kernel vTPM after a
// manager restart, and takes back a copy of the device's server end from it
// when allowed (pidfd_getfd; swtpm serves it on fd 3).
func (m *Manager) attachKernel(ctx context.Context, stateDir string, k *kernelRecord) (*Instance, *os.File, error) {
	proc, err := attachPID(stateDir)
	if err != nil {
		return nil, nil, err
	}
	data, err := m.kernel.open(ctx, k.TPMNum)
	if err != nil {
		proc.release()
		return nil, nil, err
	}
	inst, err := withCtrl(ctx, stateDir, proc, data)
	if err != nil {
		proc.release()
		return nil, nil, err
	}
	var hold *os.File
	if fd, err := unix.PidfdGetfd(proc.pidfd, 3, 0); err == nil {
		hold = os.NewFile(uintptr(fd), "vtpm-proxy-hold")
	} else {
		m.log.Warn("kernel vTPM: cannot keep a copy of its device (the device lives as long as swtpm)", "tpm", k.TPMNum, "err", err)
	}
	return inst, hold, nil
}

// kernelAttachment tells the runtime how to give the container a kernel
// vTPM: /dev/tpmrm0 backed by the host's tpmrmN, the device-cgroup rule
// for exactly that node, the event log directory, and a TSS environment
// using the device TCTI.
func (l layout) kernelAttachment(id string, k *kernelRecord) Attachment {
	dev, rule := DeviceWiring(k.RMMajor, k.RMMinor)
	tcti := "device:" + ContainerDevice
	return Attachment{
		Arch:       ArchKernel,
		HostDir:    l.attach(id),
		HostDevice: k.RMPath,
		Device:     &dev,
		DeviceRule: &rule,
		Env: []string{
			"TPM2TOOLS_TCTI=" + tcti,
			"TPM2OPENSSL_TCTI=" + tcti,
			"TPM2_PKCS11_TCTI=" + tcti,
			"TRUSTBOX_TPM_DEVICE=" + ContainerDevice,
			"TRUSTBOX_TPM_EVENTLOG=" + ContainerLog,
		},
	}
}

// ownDevice gives the host's tpmrmN to the container's owner (its host
// uid/gid, mapped under a user namespace: the runtime bind-mounts this very
// node there), mode 0660, or to root alone (0600) when there is none: no
// other host user reaches the vTPM (R-TRUST-7).
func ownDevice(path string, o *Owner) error {
	uid, gid, mode := 0, 0, os.FileMode(0o600)
	if o != nil {
		uid, gid, mode = int(o.UID), int(o.GID), 0o660
	}
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("kernel vTPM device owner: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("kernel vTPM device mode: %w", err)
	}
	return nil
}

// rsPW is the password session handle (TPM_RS_PW). go-tpm has no types
// for ClearControl and HierarchyControl, so lockPlatform builds them.
const rsPW = 0x40000009

// lockPlatform closes what the adapter's filter would otherwise refuse: a
// kernel vTPM reaches the tenant through the kernel's resource manager,
// which filters nothing. TPM2_Clear is disabled (only the platform can
// enable it again) and the platform hierarchy is switched off until the
// next TPM reset, which only the manager's control channel can cause; so
// the tenant cannot change EPS or PPS, reallocate PCRs, or undefine the
// EK certificate indices (R-TRUST-7).
func lockPlatform(t transport.TPM) error {
	for _, c := range []struct {
		name   string
		cc     uint32
		params []byte
	}{
		{"ClearControl(platform, disable)", ccClearControl, []byte{1}},
		{"HierarchyControl(platform off)", ccHierarchyControl, []byte{0x40, 0x00, 0x00, 0x0C, 0}},
	} {
		rsp, err := t.Send(platformCommand(c.cc, c.params))
		if err != nil {
			return fmt.Errorf("lock platform hierarchy: %s: %w", c.name, err)
		}
		if rc := binary.BigEndian.Uint32(rsp[6:10]); rc != 0 {
			return fmt.Errorf("lock platform hierarchy: %s: TPM result 0x%x", c.name, rc)
		}
	}
	return nil
}

// platformCommand is one command authorised by the platform hierarchy's
// (empty) password.
func platformCommand(cc uint32, params []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, 0x8002) // TPM_ST_SESSIONS
	b = binary.BigEndian.AppendUint32(b, 0)         // size, below
	b = binary.BigEndian.AppendUint32(b, cc)
	b = binary.BigEndian.AppendUint32(b, rhPlatform)
	b = binary.BigEndian.AppendUint32(b, 9) // authorization area size
	b = binary.BigEndian.AppendUint32(b, rsPW)
	b = append(b, 0, 0, 0, 0, 0) // nonce size 0, attributes 0, hmac size 0
	b = append(b, params...)
	binary.BigEndian.PutUint32(b[2:6], uint32(len(b)))
	return b
}
