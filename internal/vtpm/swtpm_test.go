package vtpm

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/testutil"
)

func testKey(t testing.TB) []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

// startTest starts a swtpm in a fresh temp dir and destroys it at cleanup.
func startTest(t testing.TB) *Instance {
	t.Helper()
	testutil.RequiresBinary(t, "swtpm")
	inst, err := Start(context.Background(), Config{StateDir: filepath.Join(t.TempDir(), "tpm"), Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Destroy(context.Background()) })
	return inst
}

func extend(t transport.TPM, pcr uint32, d []byte) error {
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d}}},
	}.Execute(t)
	return err
}

func readPCR(t testing.TB, tpm transport.TPM, pcr uint) []byte {
	t.Helper()
	r, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(pcr)}}}}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	return r.PCRValues.Digests[0].Buffer
}

// Implements R-TRUST-2 and R-TRUST-7: a private 0700 state dir, 0600 sockets,
// the state key never in argv.
func TestStartPermissionsAndKey(t *testing.T) {
	inst := startTest(t)
	if _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(inst); err != nil {
		t.Fatalf("TPM not usable after Start: %v", err)
	}
	cases := []struct {
		path string
		mode os.FileMode
	}{{"", 0o700}, {dataSock, 0o600}, {ctrlSock, 0o600}, {pidFile, 0o600}, {logFile, 0o600}}
	for _, c := range cases {
		p := inst.Dir()
		if c.path != "" {
			p = sidecar(p, c.path)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != c.mode {
			t.Errorf("%s: mode %o, want %o", c.path, fi.Mode().Perm(), c.mode)
		}
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", inst.PID()))
	if !strings.Contains(string(cmdline), "fd=5,mode=aes-256-cbc") {
		t.Errorf("swtpm not started with an encrypted state: %q", cmdline)
	}
}

func TestDestroyLeavesNothing(t *testing.T) {
	testutil.RequiresBinary(t, "swtpm")
	dir := filepath.Join(t.TempDir(), "tpm")
	inst, err := Start(context.Background(), Config{StateDir: dir, Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	pid := inst.PID()
	if err := inst.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 0 {
		t.Errorf("left behind after Destroy: %v", ents)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("swtpm pid %d still running after Destroy", pid)
	}
}

func TestStartFailureLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tpm")
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing binary", Config{StateDir: dir, Key: testKey(t), Binary: "/nonexistent/swtpm"}, "no such file"},
		{"short key", Config{StateDir: dir, Key: []byte("short")}, "32 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Start(context.Background(), c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Start error %v, want one mentioning %q", err, c.want)
			}
			if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 0 {
				t.Errorf("left behind after failed Start: %v", ents)
			}
		})
	}
}

// A manager restart detaches and re-attaches; the PCRs survive (issue 4).
func TestDetachAttachKeepsPCRs(t *testing.T) {
	inst := startTest(t)
	d := bytes.Repeat([]byte{7}, 32)
	if err := inst.Do(0, func(tpm transport.TPM) error { return extend(tpm, 8, d) }); err != nil {
		t.Fatal(err)
	}
	before := readPCR(t, inst, 8)
	dir := inst.Dir()
	inst.Detach()
	again, err := Attach(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Destroy(context.Background()) })
	if after := readPCR(t, again, 8); !bytes.Equal(before, after) {
		t.Fatalf("PCR 8 changed across re-attach: %x -> %x", before, after)
	}
}

// PCR 17 is closed to locality 0 (the tenant) and open to the manager at 2.
func TestLocalityGuardsLaunchPCR(t *testing.T) {
	inst := startTest(t)
	d := bytes.Repeat([]byte{1}, 32)
	cases := []struct {
		loc uint8
		ok  bool
	}{{0, false}, {2, true}}
	for _, c := range cases {
		err := inst.Do(c.loc, func(tpm transport.TPM) error { return extend(tpm, 17, d) })
		if (err == nil) != c.ok {
			t.Errorf("extend PCR 17 at locality %d: err=%v, want ok=%v", c.loc, err, c.ok)
		}
	}
}

// When swtpm cannot start (here: its uid cannot reach its state dir), the
// error says what swtpm said, not just "broken pipe".
func TestSwtpmExitIsExplained(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.RequiresBinary(t, "swtpm")
	parent := t.TempDir() // 0700 root: uid 0x60000000 cannot traverse it
	inst, err := Start(context.Background(), Config{StateDir: filepath.Join(parent, "tpm"), Key: testKey(t),
		Credential: &syscall.Credential{Uid: 0x60000000, Gid: 0x60000000}})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Destroy(context.Background())
	_, err = (tpm2.GetRandom{BytesRequested: 8}).Execute(inst)
	if err == nil || !strings.Contains(err.Error(), "swtpm exited; its log says") {
		t.Fatalf("error %v, want swtpm's own explanation", err)
	}
	t.Log(err)
}
