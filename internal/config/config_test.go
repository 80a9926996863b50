package config

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/testutil"
)

func TestEncodeRoundTrip(t *testing.T) {
	in := &Init{ID: "c1", Spec: &specs.Spec{Hostname: "h"}, SeccompFlags: 8,
		Seccomp: Program{{Code: 0x20, K: 4}, {Code: 0x15, Jt: 1, Jf: 2, K: 0xc000003e}, {Code: 6, K: 0x7fff0000}}}
	b := Encode(in)
	// The filter travels byte for byte as the kernel reads struct sock_filter.
	var want []byte
	want = binary.NativeEndian.AppendUint16(want, 0x15)
	want = append(want, 1, 2)
	want = binary.NativeEndian.AppendUint32(want, 0xc000003e)
	if !strings.Contains(string(b), string(want)) {
		t.Fatalf("the second instruction % x is not in the message % x", want, b)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n%+v\n%+v", in, out)
	}
	none := Encode(&Init{ID: "c2"})
	if out, err := Decode(none); err != nil || out.Seccomp != nil || out.Spec != nil {
		t.Fatalf("no filter, no spec: %+v %v", out, err)
	}
}

// Every field of Init, and every field of the spec that ForInit keeps,
// arrives as sent: a field added to either without a place in wire.go fails
// here. The spec is filled whole, so ForInit's choice is what is tested.
func TestWireRoundTrip(t *testing.T) {
	var in Init
	n := 0
	testutil.Fill(reflect.ValueOf(&in).Elem(), &n)
	var s specs.Spec
	testutil.Fill(reflect.ValueOf(&s).Elem(), &n)
	in.Spec = ForInit(&s)
	b := Encode(&in)
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&in, out) {
		t.Fatalf("round trip lost something:\nsent %+v\n got %+v\nspec sent %+v\n      got %+v", in, *out, *in.Spec, *out.Spec)
	}
	// And what ForInit keeps is what init reads: spot-check the
	// security-relevant fields survived the filter itself.
	if len(in.Spec.Linux.MaskedPaths) == 0 || len(in.Spec.Linux.ReadonlyPaths) == 0 || in.Spec.Process.Capabilities == nil ||
		!in.Spec.Process.NoNewPrivileges || in.Spec.Linux.Seccomp != nil || in.Spec.Linux.Resources != nil || in.Spec.Annotations != nil {
		t.Fatalf("ForInit kept the wrong fields: %+v", in.Spec)
	}
	// Nil and empty are told apart.
	empty := &Init{Spec: &specs.Spec{Mounts: []specs.Mount{}, Process: &specs.Process{Args: []string{}}}, CgroupDirs: map[string]string{}}
	b = Encode(empty)
	if out, err := Decode(b); err != nil || !reflect.DeepEqual(empty, out) {
		t.Fatalf("empty collections: %v\n%+v\n%+v", err, empty, out)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := Encode(&Init{ID: "x", Seccomp: Program{{Code: 6}}, Spec: &specs.Spec{Hostname: "h"}})
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"other version", append([]byte{wireVersion + 1}, good[1:]...), "wire version"},
		{"truncated", good[:len(good)-3], "truncated"},
		{"length past the end", []byte{wireVersion, 0x7f}, "truncated"},
		{"trailing bytes", append(append([]byte{}, good...), 0), "left after"},
		{"bad flag", func() []byte { b := Encode(&Init{ID: "x"}); b[4] = 7; return b }(), "flag"},
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
	for _, c := range []*Init{{}, {ID: "a", Seccomp: Program{{Code: 6, K: 0x7fff0000}}}, {Spec: &specs.Spec{Mounts: []specs.Mount{{Destination: "/x"}}}},
		{Spec: &specs.Spec{Process: &specs.Process{Args: []string{"sh"}, Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}}},
			Linux: &specs.Linux{MaskedPaths: []string{"/proc/kcore"}, Namespaces: []specs.LinuxNamespace{{Type: "pid"}}}}, CgroupDirs: map[string]string{"pids": "/x"}}} {
		b := Encode(c)
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		c2, err := Decode(Encode(c))
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("re-decode: %v\n%+v\n%+v", err, c, c2)
		}
	})
}
