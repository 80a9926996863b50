package config

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestEncodeRoundTrip(t *testing.T) {
	in := &Init{ID: "c1", Spec: &specs.Spec{Hostname: "h"}, SeccompFlags: 8,
		Seccomp: Program{{Code: 0x20, K: 4}, {Code: 0x15, Jt: 1, Jf: 2, K: 0xc000003e}, {Code: 6, K: 0x7fff0000}}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	// The filter is the tail, byte for byte as the kernel reads struct sock_filter.
	tail := b[len(b)-24:]
	if binary.NativeEndian.Uint16(tail[8:]) != 0x15 || tail[10] != 1 || tail[11] != 2 || binary.NativeEndian.Uint32(tail[12:]) != 0xc000003e {
		t.Fatalf("filter bytes: % x", tail)
	}
	if bytes.Contains(b, []byte(`"seccomp"`)) {
		t.Fatal("the filter was also put in the JSON")
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n%+v\n%+v", in, out)
	}
	none, err := Encode(&Init{ID: "c2"})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := Decode(none); err != nil || out.Seccomp != nil {
		t.Fatalf("no filter: %v %v", out.Seccomp, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, _ := Encode(&Init{ID: "x", Seccomp: Program{{Code: 6}}})
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short header", []byte{1, 0}, "too short"},
		{"length past the end", append([]byte{0xff, 0xff, 0, 0}, '{', '}'), "follow"},
		{"partial instruction", good[:len(good)-3], "whole number"},
		{"bad json", append([]byte{2, 0, 0, 0}, '{', '{'), "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode(% x) = %v, want an error with %q", tc.in, err, tc.want)
			}
		})
	}
}

// FuzzDecode: whatever arrives on the sync socket, Decode returns a config
// or an error, never panics, and what it accepts encodes back to an equal config.
func FuzzDecode(f *testing.F) {
	for _, c := range []*Init{{}, {ID: "a", Seccomp: Program{{Code: 6, K: 0x7fff0000}}}, {Spec: &specs.Spec{Mounts: []specs.Mount{{Destination: "/x"}}}}} {
		b, _ := Encode(c)
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := Decode(again)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("re-decode: %v\n%+v\n%+v", err, c, c2)
		}
	})
}
