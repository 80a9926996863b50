package vtpm

import (
	"context"
	"encoding/binary"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/auditlog"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// openKernelManager opens a manager whose kernel vTPMs come from k (the
// host's /dev/vtpmx when nil).
func openKernelManager(t *testing.T, dir string, k kernelTPMs, audit Auditor) *Manager {
	t.Helper()
	testutil.RequiresBinary(t, "swtpm")
	m, err := Open(context.Background(), Options{Dir: dir, Audit: audit, kernel: k})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func kernelRequest() CreateRequest {
	return CreateRequest{Arch: ArchKernel, Measure: attestapi.MeasureInput{
		Runtime:    attestapi.Runtime{BinarySHA256: "rt", Version: "0.1.0"},
		OCIConfig:  []byte(`{"ociVersion":"1.2.0"}`),
		Image:      attestapi.Image{RootfsDigest: "sha256:img"},
		Policy:     attestapi.SecurityPolicy{Profile: "default"},
		Entrypoint: attestapi.Entrypoint{Argv: []string{"/bin/sh"}},
	}}
}

func appraise(t *testing.T, m *Manager, id string) attestapi.Verdict {
	t.Helper()
	ev, err := m.Attest(context.Background(), id, []byte("n-"+id))
	if err != nil {
		t.Fatal(err)
	}
	p := &attestapi.Policy{Version: attestapi.PolicyVersion, AllowSoftwareRoot: true,
		TrustedRoots: []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.Root().Cert.Raw}))}}
	return verifier.Appraise(ev, verifier.Options{Policy: p, Nonce: []byte("n-" + id)})
}

// tenantRC sends cmd as the container would, through device n, and
// returns the TPM's response code.
func tenantRC(t *testing.T, k *socketKernel, n uint32, cmd []byte) uint32 {
	t.Helper()
	f, err := k.open(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(cmd); err != nil {
		t.Fatal(err)
	}
	rsp := make([]byte, 4096)
	if n, err := f.Read(rsp); err != nil || n < headerSize {
		t.Fatalf("tenant read: %d bytes, %v", n, err)
	}
	return binary.BigEndian.Uint32(rsp[6:10])
}

// Implements R-TRUST-3 and R-TRUST-7: a kernel vTPM is measured and
// attestable like any other; the container gets a device and its cgroup
// rule, no socket; the platform hierarchy and Clear are locked before it
// runs; destroy releases the device.
func TestManagerKernelArch(t *testing.T) {
	k := &socketKernel{dir: t.TempDir()}
	defer k.close()
	log := auditlog.Open(t.TempDir())
	m := openKernelManager(t, t.TempDir(), k, log)
	defer m.Close()
	ctx := context.Background()
	att, err := m.Create(ctx, "kern", kernelRequest())
	if err != nil {
		t.Fatal(err)
	}
	if att.Arch != ArchKernel || att.HostSocket != "" || att.HostDevice != filepath.Join(k.dir, "tpmrm0") ||
		att.Device == nil || att.Device.Major != 253 || att.Device.Minor != 65536 || att.DeviceRule == nil || *att.DeviceRule.Minor != 65536 {
		t.Errorf("kernel attachment %+v", att)
	}
	if ents, _ := os.ReadDir(att.HostDir); len(ents) != 1 || ents[0].Name() != "eventlog" {
		t.Errorf("kernel vTPM attachment dir holds %v, want only eventlog", ents)
	}
	if v := appraise(t, m, "kern"); !v.Trusted {
		t.Fatalf("kernel vTPM not attestable: %v", v.Reasons)
	}
	clear := platformCommand(ccClear, nil)
	binary.BigEndian.PutUint32(clear[10:14], 0x4000000A) // TPM_RH_LOCKOUT, empty auth
	if rc := tenantRC(t, k, 0, clear); rc != 0x120 {
		t.Errorf("tenant TPM2_Clear: rc 0x%x, want TPM_RC_DISABLED (0x120)", rc)
	}
	if rc := tenantRC(t, k, 0, platformCommand(ccClearControl, []byte{0})); rc&0xBF != 0x85 {
		t.Errorf("tenant platform-hierarchy command: rc 0x%x, want TPM_RC_HIERARCHY", rc)
	}
	if fi, _ := os.Stat(att.HostDevice); fi.Mode().Perm() != 0o600 {
		t.Errorf("host device mode %o, want 0600 (root only: no owner given)", fi.Mode().Perm())
	}
	if i, err := m.Show("kern"); err != nil || i.Arch != ArchKernel || i.Device != att.HostDevice {
		t.Errorf("show: %+v %v", i, err)
	}
	if err := m.Detach(ctx, "kern"); err == nil || !strings.Contains(err.Error(), "kernel vTPM") {
		t.Errorf("detach of a kernel vTPM: %v, want a refusal", err)
	}
	again, err := m.Attach(ctx, "kern", AttachRequest{Owner: &Owner{UID: 1000, GID: 1001}})
	if err != nil || again.HostDevice != att.HostDevice || again.Device.Minor != att.Device.Minor {
		t.Errorf("attach of a kernel vTPM: %+v %v, want the same device", again, err)
	}
	if fi, _ := os.Stat(att.HostDevice); fi.Mode().Perm() != 0o660 || fi.Sys().(*syscall.Stat_t).Uid != 1000 || fi.Sys().(*syscall.Stat_t).Gid != 1001 {
		t.Errorf("host device after attach to 1000:1001: %v", fi.Mode())
	}
	if k.gone(0) {
		t.Fatal("device released while the vTPM exists")
	}
	if err := m.Destroy(ctx, "kern"); err != nil {
		t.Fatal(err)
	}
	if !k.gone(0) {
		t.Error("device still held after destroy")
	}
	b, _ := os.ReadFile(log.Path)
	if !strings.Contains(string(b), `"arch":"kernel"`) {
		t.Errorf("audit log lacks the kernel create: %s", b)
	}
}

// A restarted manager finds a kernel vTPM's swtpm again (PCRs intact) and
// destroys one whose swtpm died: the device it would get anew could not be
// given to the running container.
func TestManagerKernelRestart(t *testing.T) {
	k := &socketKernel{dir: t.TempDir()}
	defer k.close()
	dir := t.TempDir()
	m := openKernelManager(t, dir, k, nil)
	pids := map[string]int{}
	for _, id := range []string{"k0", "k1"} {
		if _, err := m.Create(context.Background(), id, kernelRequest()); err != nil {
			t.Fatal(err)
		}
		i, _ := m.Show(id)
		pids[id] = i.PID
	}
	m.Close()
	fd, err := unix.PidfdOpen(pids["k1"], 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	if n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 10000); n != 1 {
		t.Fatalf("swtpm did not exit: %v", err)
	}
	unix.Close(fd)

	m2 := openKernelManager(t, dir, k, nil)
	defer m2.Close()
	defer m2.Destroy(context.Background(), "k0")
	if l := m2.List(); len(l) != 1 || l[0].ID != "k0" || l[0].PID != pids["k0"] {
		t.Fatalf("after restart: %+v, want only k0 on its old swtpm", l)
	}
	if _, err := os.Stat(filepath.Join(dir, "vtpm", "k1")); err == nil {
		t.Error("the lost kernel vTPM's state survived")
	}
	if !k.gone(1) || k.gone(0) {
		t.Errorf("devices gone: k0 %v (want false), k1 %v (want true)", k.gone(0), k.gone(1))
	}
	if v := appraise(t, m2, "k0"); !v.Trusted {
		t.Errorf("re-attached kernel vTPM: %v", v.Reasons)
	}
}

// Without /dev/vtpmx a kernel create fails saying why, as does an unknown
// architecture, and neither leaves anything behind.
func TestKernelCreateFailureLeavesNothing(t *testing.T) {
	testutil.RequiresBinary(t, "swtpm")
	dir := t.TempDir()
	m, err := Open(context.Background(), Options{Dir: dir, Vtpmx: filepath.Join(dir, "no-vtpmx")})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	req := kernelRequest()
	if _, err := m.Create(context.Background(), "k", req); err == nil || !strings.Contains(err.Error(), "modprobe tpm_vtpm_proxy") {
		t.Errorf("kernel create without vtpmx: %v", err)
	}
	req.Arch = "vm"
	if _, err := m.Create(context.Background(), "k", req); err == nil || !strings.Contains(err.Error(), "unknown vTPM architecture") {
		t.Errorf("create with arch vm: %v", err)
	}
	for _, sub := range []string{"vtpm", "attach"} {
		if ents, _ := os.ReadDir(filepath.Join(dir, sub)); len(ents) != 0 {
			t.Errorf("%s/ not empty after failed creates: %v", sub, ents)
		}
	}
}
