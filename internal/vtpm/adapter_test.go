package vtpm_test

import (
	"context"
	"debug/elf"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/testutil"
)

var (
	adapterOnce sync.Once
	adapterBin  string
	adapterErr  error
)

// adapterBinary builds cmd/tbtpm-adapter static, as shipped in the demo image.
func adapterBinary(t *testing.T) string {
	adapterOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tbtpm-adapter-")
		if err != nil {
			adapterErr = err
			return
		}
		adapterBin = filepath.Join(dir, "tbtpm-adapter")
		cmd := exec.Command("go", "build", "-o", adapterBin, "./cmd/tbtpm-adapter")
		cmd.Dir = testutil.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			adapterErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if adapterErr != nil {
		t.Fatal(adapterErr)
	}
	return adapterBin
}

// tools runs tpm2-tools commands against the adapter socket through the
// cmd: TCTI, as a container's process would.
type tools struct {
	t    *testing.T
	dir  string
	tcti string
}

func newTools(t *testing.T, sock string) *tools {
	testutil.RequiresBinary(t, "tpm2_quote")
	return &tools{t: t, dir: t.TempDir(), tcti: "cmd:" + adapterBinary(t) + " " + sock}
}

func (x *tools) run(args ...string) (string, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = x.dir
	cmd.Env = append(os.Environ(), "TPM2TOOLS_TCTI="+x.tcti)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (x *tools) must(args ...string) string {
	x.t.Helper()
	out, err := x.run(args...)
	if err != nil {
		x.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// attestFlow is issue 4's acceptance list: startup, pcrread, pcrextend,
// createek, createak, quote, checkquote.
func (x *tools) attestFlow() {
	x.must("tpm2_startup", "-c")
	x.must("tpm2_pcrread", "sha256:16")
	x.must("tpm2_pcrextend", "16:sha256="+strings.Repeat("ab", 32))
	x.must("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub")
	x.must("tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-f", "pem", "-n", "ak.name")
	x.must("tpm2_quote", "-c", "ak.ctx", "-l", "sha256:8,9,16,17", "-q", "c0ffee", "-m", "q.msg", "-s", "q.sig", "-o", "q.pcrs", "-g", "sha256")
	x.must("tpm2_checkquote", "-u", "ak.pub", "-m", "q.msg", "-s", "q.sig", "-f", "q.pcrs", "-g", "sha256", "-q", "c0ffee")
}

// Implements R-TRUST-4: tpm2-tools work unchanged through the adapter, two
// clients at once, and nothing they loaded stays in the TPM.
func TestAdapterTPM2Tools(t *testing.T) {
	m := openManager(t, t.TempDir())
	defer destroyAll(t, m)
	att, err := m.Create(context.Background(), "tools", request(""))
	if err != nil {
		t.Fatal(err)
	}
	newTools(t, att.HostSocket).attestFlow()

	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := newTools(t, att.HostSocket)
			for _, args := range [][]string{
				{"tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub"},
				{"tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa", "-u", "ak.pub", "-f", "pem"},
				{"tpm2_quote", "-c", "ak.ctx", "-l", "sha256:17", "-q", "01", "-m", "q.msg", "-s", "q.sig", "-o", "q.pcrs", "-g", "sha256"},
				{"tpm2_checkquote", "-u", "ak.pub", "-m", "q.msg", "-s", "q.sig", "-f", "q.pcrs", "-g", "sha256", "-q", "01"},
			} {
				if out, err := x.run(args...); err != nil {
					t.Errorf("concurrent %s: %v\n%s", args[0], err, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	out := newTools(t, att.HostSocket).must("tpm2_getcap", "handles-transient")
	if strings.TrimSpace(out) != "" {
		t.Errorf("transient objects left in the vTPM after the clients exited:\n%s", out)
	}
}

// Filtered commands fail with a clear TPM error; the TPM is unchanged.
func TestAdapterRefusesForbiddenCommands(t *testing.T) {
	m := openManager(t, t.TempDir())
	defer destroyAll(t, m)
	att, err := m.Create(context.Background(), "deny", request(""))
	if err != nil {
		t.Fatal(err)
	}
	x := newTools(t, att.HostSocket)
	cases := [][]string{
		{"tpm2_clear", "-c", "p"},
		{"tpm2_changeauth", "-c", "o", "newpass"},
		{"tpm2_evictcontrol", "-C", "o", "-c", "0x81010001"},
		{"tpm2_nvundefine", "-C", "p", "0x01C00002"},
		{"tpm2_hierarchycontrol", "-C", "p", "shEnable", "clear"},
	}
	for _, args := range cases {
		out, err := x.run(args...)
		if err == nil || !strings.Contains(out, "disabled") {
			t.Errorf("%s: err=%v, want a refusal naming TPM_RC_DISABLED:\n%s", strings.Join(args, " "), err, out)
		}
	}
	x.must("tpm2_nvread", "0x01C00002", "-o", "ekcert.der") // reading the EK cert stays allowed
	if v := verify(t, m, "deny"); !v.Trusted {
		t.Errorf("vTPM no longer attests after refused commands: %v", v.Reasons)
	}
}

// A client that disconnects with objects loaded has them flushed.
func TestAdapterFlushesLeftovers(t *testing.T) {
	m := openManager(t, t.TempDir())
	defer destroyAll(t, m)
	att, err := m.Create(context.Background(), "leak", request(""))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", att.HostSocket)
	if err != nil {
		t.Fatal(err)
	}
	tpm := transport.FromReadWriter(c)
	for i := 0; i < 2; i++ {
		if _, err := (tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}).Execute(tpm); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	// A second client can load objects (it waits for the first to be
	// flushed) and sees no transient handle but its own.
	c2, err := net.Dial("unix", att.HostSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	tpm2c := transport.FromReadWriter(c2)
	cp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tpm2c)
	if err != nil {
		t.Fatal(err)
	}
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapHandles, Property: 0x80000000, PropertyCount: 16}.Execute(tpm2c)
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := rsp.CapabilityData.Data.Handles()
	if len(hs.Handle) != 1 || hs.Handle[0] != cp.ObjectHandle {
		t.Errorf("transient handles %v, want only the new client's %v", hs.Handle, cp.ObjectHandle)
	}
}

// The in-container adapter is a static binary: no ELF interpreter, so it
// runs in any image (issue 4's demo image included).
func TestAdapterBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(adapterBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("tbtpm-adapter has an ELF interpreter: build it with CGO_ENABLED=0")
		}
	}
}
