package seccomp

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/trustbox/trustbox/internal/testutil"
)

// Learning mode runs a real workload with calls outside the base reported
// and continued, never killed (R-LSM-d trap-and-report), reports each as an
// event (R-OPS-6), and writes a whitelist that then runs the same workload
// under kill-on-no-match without a single report.
func TestRecordBusybox(t *testing.T) {
	testutil.RequiresRoot(t)
	bb := testutil.RequiresBinary(t, "busybox")
	base, _ := Builtin("minimal")
	script := "echo hi > /tmp/tbx-rec.$$ && cat /tmp/tbx-rec.$$ >/dev/null && rm /tmp/tbx-rec.$$ && ls / >/dev/null"
	rec := NewRecording()
	var mu sync.Mutex
	var events []Event
	rec.OnEvent = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	var out bytes.Buffer
	code, err := RecordCommand([]string{bb, "sh", "-c", script}, base, Options{}, rec, nil, &out, &out)
	if err != nil || code != 0 {
		t.Fatalf("record: code %d, %v: %s", code, err, out.String())
	}
	calls := rec.Calls()
	for _, want := range []string{"openat", "getdents64", "unlink"} {
		if calls[want] == 0 {
			t.Errorf("recording lacks %s: %v", want, calls)
		}
	}
	if len(events) == 0 || !events[0].New {
		t.Fatalf("no events reported")
	}
	learned := rec.Profile(base)
	data, _ := json.Marshal(learned)
	if _, err := Parse(data); err != nil {
		t.Fatalf("learned profile does not parse: %v", err)
	}
	// Second run: the learned profile as base; nothing new is reported.
	rec2 := NewRecording()
	code, err = RecordCommand([]string{bb, "sh", "-c", script}, learned, Options{}, rec2, nil, &out, &out)
	if err != nil || code != 0 {
		t.Fatalf("second run: code %d, %v: %s", code, err, out.String())
	}
	if c := rec2.Calls(); len(c) != 0 {
		t.Errorf("second run under the learned profile still reported %v", c)
	}
	for _, b := range Blacklist {
		if calls[b.Name] > 0 {
			t.Errorf("blacklisted %s was recorded instead of killed", b.Name)
		}
	}
}
