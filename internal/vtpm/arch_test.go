package vtpm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// socketKernel stands in for tpm_vtpm_proxy where /dev/vtpmx is missing:
// a SOCK_SEQPACKET pair carries one TPM command or response per message,
// as the proxy's anonymous fd does. swtpm serves the server end exactly as
// it would serve the kernel's; the manager talks on the other end where it
// would open /dev/tpmN. Everything else (swtpm, provisioning, measurement,
// attestation, the platform lock) is real.
type socketKernel struct {
	dir     string // holds the stand-ins for /dev/tpmrmN
	mu      sync.Mutex
	clients []*os.File // the "/dev/tpmN" end of device N
}

func (k *socketKernel) create() (*ProxyDevice, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fds[1], true); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	n := uint32(len(k.clients))
	k.clients = append(k.clients, os.NewFile(uintptr(fds[1]), fmt.Sprintf("tpm%d", n)))
	return &ProxyDevice{Server: os.NewFile(uintptr(fds[0]), "proxy-server"), TPMNum: n, Major: 10, Minor: 224 + n}, nil
}

// open hands out a copy of device n's client end, as each open of
// /dev/tpmN is a new file on the same device.
func (k *socketKernel) open(_ context.Context, n uint32) (dataConn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if int(n) >= len(k.clients) {
		return nil, fmt.Errorf("no /dev/tpm%d", n)
	}
	fd, err := unix.FcntlInt(k.clients[n].Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("tpm%d", n)), nil
}

// rmDevice stands a file in the test's dir in for the host's /dev/tpmrmN.
func (k *socketKernel) rmDevice(n uint32) (string, uint32, uint32, error) {
	p := filepath.Join(k.dir, fmt.Sprintf("tpmrm%d", n))
	return p, 253, 65536 + n, os.WriteFile(p, nil, 0o666)
}

// gone reports whether every server end of device n is closed (swtpm's and
// the manager's hold): the kernel would have removed the device.
func (k *socketKernel) gone(n uint32) bool {
	k.mu.Lock()
	f := k.clients[n]
	k.mu.Unlock()
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
	unix.Poll(fds, 0)
	return fds[0].Revents&unix.POLLHUP != 0
}

func (k *socketKernel) close() {
	for _, f := range k.clients {
		f.Close()
	}
}

// Implements R-TRUST-3: the request, record and attachment plumbing of the
// kernel architecture, without the device.
func TestArchOf(t *testing.T) {
	for in, want := range map[string]string{"": ArchDaemon, "daemon": ArchDaemon, "kernel": ArchKernel} {
		if got, err := archOf(in); err != nil || got != want {
			t.Errorf("archOf(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := archOf("Kernel"); err == nil {
		t.Error(`archOf("Kernel") accepted`)
	}
	var req CreateRequest
	if err := json.Unmarshal([]byte(`{"arch":"kernel"}`), &req); err != nil || req.Arch != ArchKernel {
		t.Errorf("CreateRequest arch on the wire: %+v %v", req, err)
	}
}

func TestKernelAttachment(t *testing.T) {
	a := layout{"/run/trustbox/vtpm"}.kernelAttachment("web", &kernelRecord{TPMNum: 3, RMPath: "/dev/tpmrm3", RMMajor: 253, RMMinor: 65539})
	b, _ := json.Marshal(a)
	var back Attachment
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	d, r := back.Device, back.DeviceRule
	if back.Arch != ArchKernel || back.HostDevice != "/dev/tpmrm3" || back.HostSocket != "" || back.HostDir != "/run/trustbox/vtpm/attach/web" {
		t.Errorf("attachment %s", b)
	}
	if d == nil || d.Path != ContainerDevice || d.Type != "c" || d.Major != 253 || d.Minor != 65539 {
		t.Errorf("device %+v", d)
	}
	if r == nil || !r.Allow || r.Type != "c" || *r.Major != 253 || *r.Minor != 65539 || r.Access != "rw" {
		t.Errorf("cgroup rule %+v", r)
	}
	if want := "TPM2TOOLS_TCTI=device:/dev/tpmrm0"; back.Env[0] != want {
		t.Errorf("env %v, want %s first", back.Env, want)
	}
}

// The platform-hierarchy commands are well-formed TPM commands.
func TestPlatformCommand(t *testing.T) {
	b := platformCommand(ccClearControl, []byte{1})
	want := "8002" + "0000001c" + "00000127" + "4000000c" + "00000009" + "40000009" + "0000" + "00" + "0000" + "01"
	if got := fmt.Sprintf("%x", b); got != want {
		t.Errorf("ClearControl = %s, want %s", got, want)
	}
}
