package vtpm

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/testutil"
)

// Implements R-TRUST-3: the ioctl number and struct layout the kernel expects.
func TestVtpmProxyIoctlEncoding(t *testing.T) {
	if ioctlNewDev != 0xC014A100 {
		t.Fatalf("VTPM_PROXY_IOC_NEW_DEV = %#x, want 0xc014a100", ioctlNewDev)
	}
	d := proxyDev{Flags: vtpmProxyFlagTPM2, TPMNum: 3, FD: 7, Major: 10, Minor: 224}
	b := d.encode()
	if len(b) != 20 {
		t.Fatalf("struct is %d bytes, want 20", len(b))
	}
	back, err := decodeProxyDev(b)
	if err != nil || back != d {
		t.Fatalf("decode(encode(%+v)) = %+v, %v", d, back, err)
	}
	if _, err := decodeProxyDev(b[:19]); err == nil {
		t.Error("short struct accepted")
	}
}

func TestDeviceWiring(t *testing.T) {
	sys := t.TempDir()
	dir := filepath.Join(sys, "class", "tpmrm", "tpmrm2")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "dev"), []byte("253:65538\n"), 0o644)
	maj, min, err := rmDevNumber(sys, 2)
	if err != nil || maj != 253 || min != 65538 {
		t.Fatalf("rmDevNumber = %d:%d %v", maj, min, err)
	}
	dev, rule := DeviceWiring(maj, min)
	if dev.Path != "/dev/tpmrm0" || dev.Type != "c" || dev.Major != 253 || dev.Minor != 65538 {
		t.Errorf("device %+v", dev)
	}
	if !rule.Allow || rule.Access != "rw" || *rule.Major != 253 || *rule.Minor != 65538 {
		t.Errorf("cgroup rule %+v", rule)
	}
	for _, bad := range []string{"", "253", "a:b", "1:2:3"} {
		if _, _, err := parseDevNumber(bad); err == nil {
			t.Errorf("parseDevNumber(%q) accepted", bad)
		}
	}
}

// The live kernel path needs /dev/vtpmx (tpm_vtpm_proxy), absent here.
func TestVtpmProxyLive(t *testing.T) {
	testutil.RequiresRoot(t)
	if _, err := os.Stat(VtpmxPath); err != nil {
		t.Skip("no /dev/vtpmx: this kernel lacks tpm_vtpm_proxy (modprobe tpm_vtpm_proxy); the kernel path is unit-tested only")
	}
	testutil.RequiresBinary(t, "swtpm")
	d, err := NewProxyDevice(VtpmxPath)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Start(context.Background(), Config{StateDir: filepath.Join(t.TempDir(), "tpm"), Key: testKey(t), Proxy: d})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Destroy(context.Background())
	if _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(inst); err != nil {
		t.Fatalf("kernel vTPM /dev/tpm%d: %v", d.TPMNum, err)
	}
	if _, _, err := d.Wiring(); err != nil {
		t.Fatal(err)
	}
}

// The kernel architecture end to end on a real /dev/vtpmx: the manager
// creates the device, swtpm serves it, the launch is measured and
// attested, the attachment names the host's tpmrmN, and destroy removes it.
func TestManagerKernelLive(t *testing.T) {
	testutil.RequiresRoot(t)
	if _, err := os.Stat(VtpmxPath); err != nil {
		t.Skip("no /dev/vtpmx: this kernel lacks tpm_vtpm_proxy (modprobe tpm_vtpm_proxy); TestManagerKernelArch covers the kernel architecture with swtpm on a socket pair instead")
	}
	m := openKernelManager(t, t.TempDir(), nil, nil)
	defer m.Close()
	att, err := m.Create(context.Background(), "live", kernelRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Destroy(context.Background(), "live")
	fi, err := os.Stat(att.HostDevice)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if maj, min := unix.Major(st.Rdev), unix.Minor(st.Rdev); int64(maj) != att.Device.Major || int64(min) != att.Device.Minor {
		t.Errorf("%s is %d:%d, attachment says %d:%d", att.HostDevice, maj, min, att.Device.Major, att.Device.Minor)
	}
	if v := appraise(t, m, "live"); !v.Trusted {
		t.Fatalf("kernel vTPM not attestable: %v", v.Reasons)
	}
	if err := m.Destroy(context.Background(), "live"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(att.HostDevice); err == nil {
		t.Errorf("%s still exists after destroy", att.HostDevice)
	}
}
