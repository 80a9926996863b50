package config

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestProgramRoundTrip(t *testing.T) {
	in := Init{Seccomp: Program{{Code: 0x20, K: 4}, {Code: 0x15, Jt: 1, Jf: 2, K: 0xc000003e}, {Code: 6, K: 0x7fff0000}}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Init
	if err := json.Unmarshal(data, &out); err != nil || !reflect.DeepEqual(in.Seccomp, out.Seccomp) {
		t.Fatalf("round trip: %v %v", out.Seccomp, err)
	}
	if err := json.Unmarshal([]byte(`{"seccomp":"AAEC"}`), &out); err == nil {
		t.Fatal("a partial instruction was accepted")
	}
}
