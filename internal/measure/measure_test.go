package measure_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	goattest "github.com/google/go-attestation/attest"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

func sampleInput() attestapi.MeasureInput {
	return attestapi.MeasureInput{
		Runtime:    attestapi.Runtime{BinarySHA256: "aa", Version: "0.1.0"},
		OCIConfig:  []byte(`{"ociVersion": "1.2.0", "process": {"args": ["/bin/sh"], "user": {"uid": 0}}}`),
		Image:      attestapi.Image{RootfsDigest: "sha256:1111"},
		Policy:     attestapi.SecurityPolicy{Profile: "default", SeccompSHA256: "bb", Capabilities: []string{"CAP_CHOWN"}},
		Entrypoint: attestapi.Entrypoint{Argv: []string{"/bin/sh", "-c", "true"}, Env: []string{"PATH=/bin"}},
	}
}

func launchEvents(t testing.TB) []attestapi.Event {
	ev, err := measure.LaunchEvents("c1", attestapi.Launch{}, sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// tpm2_eventlog (tpm2-tools) parses the log and replays PCRs 8-13 to our values.
func TestTPM2EventlogParses(t *testing.T) {
	testutil.RequiresBinary(t, "tpm2_eventlog")
	ev := launchEvents(t)
	path := filepath.Join(t.TempDir(), "log.bin")
	os.WriteFile(path, attestapi.EncodeEventLog(ev), 0o600)
	out, err := exec.Command("tpm2_eventlog", path).CombinedOutput()
	if err != nil {
		t.Fatalf("tpm2_eventlog rejected the log: %v\n%s", err, out)
	}
	want := attestapi.Replay(ev)
	re := regexp.MustCompile(`(?m)^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]{64})`)
	got := map[uint32]string{}
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.Atoi(m[1])
		got[uint32(n)] = m[2]
	}
	for _, pcr := range []uint32{8, 9, 11, 12, 13} {
		v := want[pcr]
		if !bytes.EqualFold([]byte(got[pcr]), []byte(hex.EncodeToString(v[:]))) {
			t.Errorf("PCR %d: tpm2_eventlog replays %s, we replay %x", pcr, got[pcr], v)
		}
	}
	if !bytes.Contains(out, []byte("trustbox.entrypoint/v1")) && !bytes.Contains(out, []byte("EV_IPL")) {
		t.Errorf("tpm2_eventlog output does not show the launch events:\n%s", out)
	}
}

// Extending the events into a real swtpm at their localities yields exactly
// the replayed values, PCR 17 included.
func TestExtendMatchesReplay(t *testing.T) {
	testutil.RequiresBinary(t, "swtpm")
	key := make([]byte, vtpm.KeySize)
	rand.Read(key)
	inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(t.TempDir(), "tpm"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Destroy(context.Background())
	ev := launchEvents(t)
	for _, e := range ev {
		if err := inst.Do(measure.Locality(e.PCR), func(tpm transport.TPM) error { return measure.Extend(tpm, e) }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := measure.ReadPCRs(inst, attestapi.LaunchPCRs)
	if err != nil {
		t.Fatal(err)
	}
	for pcr, v := range attestapi.Replay(ev) {
		if !bytes.Equal(got[pcr], v[:]) {
			t.Errorf("PCR %d: TPM has %x, replay gives %x", pcr, got[pcr], v)
		}
	}
}

func TestCanonical(t *testing.T) {
	cases := []struct{ a, b string }{
		{`{"b":1,"a":[1,2]}`, "{\n \"a\": [1, 2],\n \"b\": 1\n}"},
		{`{"n":18446744073709551615}`, `{"n": 18446744073709551615}`},
		{`{"s":"<&>"}`, `{ "s" : "<&>" }`},
	}
	for _, c := range cases {
		a, err1 := measure.Canonical([]byte(c.a))
		b, err2 := measure.Canonical([]byte(c.b))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("Canonical(%s)=%s, Canonical(%s)=%s (%v %v)", c.a, a, c.b, b, err1, err2)
		}
	}
	if got, _ := measure.Canonical([]byte(`{"n":18446744073709551615}`)); !bytes.Contains(got, []byte("18446744073709551615")) {
		t.Errorf("large number not kept exactly: %s", got)
	}
	if _, err := measure.Canonical([]byte(`{} {}`)); err == nil {
		t.Error("trailing document accepted")
	}
}

// go-attestation, the verifier library most Go attestation services use,
// parses the log and its replay matches PCRs 8-13.
func TestGoAttestationParses(t *testing.T) {
	ev := launchEvents(t)
	el, err := goattest.ParseEventLog(attestapi.EncodeEventLog(ev))
	if err != nil {
		t.Fatalf("go-attestation rejected the log: %v", err)
	}
	var pcrs []goattest.PCR
	for pcr, v := range attestapi.Replay(ev) {
		if pcr < 17 {
			pcrs = append(pcrs, goattest.PCR{Index: int(pcr), Digest: append([]byte(nil), v[:]...), DigestAlg: crypto.SHA256})
		}
	}
	verified, err := el.Verify(pcrs)
	if err != nil {
		t.Fatalf("go-attestation replay: %v", err)
	}
	if len(verified) == 0 {
		t.Error("go-attestation verified no events")
	}
}

func TestSelfRuntime(t *testing.T) {
	r, err := measure.SelfRuntime("0.1.0", []byte("cfg"))
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	want, _ := measure.FileSHA256(exe)
	if r.BinarySHA256 != want || r.ConfigSHA256 != measure.SHA256Hex([]byte("cfg")) || r.Version != "0.1.0" {
		t.Errorf("SelfRuntime = %+v, want binary %s", r, want)
	}
	if _, err := measure.FileSHA256("/nonexistent"); err == nil {
		t.Error("FileSHA256 of a missing file succeeded")
	}
}
