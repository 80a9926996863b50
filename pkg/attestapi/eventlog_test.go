package attestapi_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/trustbox/trustbox/pkg/attestapi"
)

func sampleEvents() []attestapi.Event {
	return []attestapi.Event{
		attestapi.NewEvent(8, attestapi.EvIPL, []byte(`{"kind":"trustbox.runtime/v1"}`)),
		attestapi.NewEvent(17, attestapi.EvIPL, []byte(`{"kind":"trustbox.runtime/v1"}`)),
		attestapi.NewEvent(8, attestapi.EvSeparator, []byte{0, 0, 0, 0}),
	}
}

// Implements R-TRUST-1: the log we write parses back to the same events.
func TestEventLogRoundTrip(t *testing.T) {
	ev := sampleEvents()
	back, err := attestapi.ParseEventLog(attestapi.EncodeEventLog(ev))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(ev) {
		t.Fatalf("parsed %d events, wrote %d", len(back), len(ev))
	}
	for i := range ev {
		if back[i].PCR != ev[i].PCR || back[i].Digest != ev[i].Digest || !bytes.Equal(back[i].Data, ev[i].Data) {
			t.Errorf("event %d differs after round trip", i)
		}
	}
}

func TestReplayStartValues(t *testing.T) {
	r := attestapi.Replay(sampleEvents())
	if _, ok := r[17]; !ok || r[17] == r[8] {
		t.Errorf("PCR 17 must replay from all-ones, PCR 8 from zero: %x %x", r[17], r[8])
	}
}

func TestParseEventLogRejects(t *testing.T) {
	good := attestapi.EncodeEventLog(sampleEvents())
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated", good[:len(good)-3], "truncated"},
		{"not crypto-agile", append([]byte{0, 0, 0, 0, 3, 0, 0, 0}, make([]byte, 60)...), "not a crypto-agile log"},
	}
	for _, c := range cases {
		_, err := attestapi.ParseEventLog(c.b)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func FuzzParseEventLog(f *testing.F) {
	f.Add(attestapi.EncodeEventLog(nil))
	f.Add(attestapi.EncodeEventLog(sampleEvents()))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := attestapi.ParseEventLog(b)
		if err != nil {
			return
		}
		again, err := attestapi.ParseEventLog(attestapi.EncodeEventLog(ev))
		if err != nil || len(again) != len(ev) {
			t.Fatalf("re-encoded log does not parse: %v", err)
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz seeds when TRUSTBOX_WRITE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("TRUSTBOX_WRITE_SEEDS") == "" {
		t.Skip("set TRUSTBOX_WRITE_SEEDS=1 to regenerate fuzz seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseEventLog")
	os.MkdirAll(dir, 0o755)
	for i, b := range [][]byte{attestapi.EncodeEventLog(nil), attestapi.EncodeEventLog(sampleEvents())} {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644)
	}
}
