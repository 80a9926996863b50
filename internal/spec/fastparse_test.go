//go:build goexperiment.jsonv2

package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/testutil"
)

// The fast path takes every field runtime-spec has: a spec with all of them
// set (except Windows' free-form credentialSpec) decodes without falling
// back, into what was encoded. A field decode_gen.go lacks, after a
// runtime-spec upgrade without `go generate`, fails here.
func TestFastParseTakesEveryField(t *testing.T) {
	var in specs.Spec
	n := 0
	testutil.Fill(reflect.ValueOf(&in).Elem(), &n)
	data, err := json.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	out, unknown, ok := fastParse(data)
	if !ok || len(unknown.Paths) != 0 {
		t.Fatalf("fast path declined a full spec (ok=%v, unknown=%v)", ok, unknown)
	}
	if !reflect.DeepEqual(&in, out) {
		t.Fatalf("fast path decoded\n%+v\nencoded\n%+v", out, &in)
	}
	// And what `trustbox spec` writes, the config most containers start with.
	data, _ = json.MarshalIndent(Default(false, 0, 0), "", "\t")
	if _, _, ok := fastParse(data); !ok {
		t.Fatal("fast path declined the default spec")
	}
}

// What the fast path declines, encoding/json decodes (or refuses, with the
// message users see); what it takes, it takes as encoding/json does.
func TestFastParseDeclines(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"name folded", `{"ociVersion":"1.0.0","Process":{"args":["a"]}}`},
		{"name with a dash", `{"ociVersion":"1.0.0","oci-version":"1.0.0"}`},
		{"duplicate", `{"hostname":"a","hostname":"b"}`},
		{"type", `{"process":{"args":5}}`},
		{"fraction", `{"process":{"user":{"uid":1.5}}}`},
		{"overflow", `{"process":{"user":{"uid":4294967296}}}`},
		{"negative unsigned", `{"process":{"user":{"uid":-1}}}`},
		{"trailing", `{"hostname":"a"} {}`},
		{"bad utf-8", "{\"hostname\":\"\xff\"}"},
		{"credential spec", `{"windows":{"credentialSpec":{"a":1}}}`},
		{"not an object", `[1]`},
		{"empty", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, _, ok := fastParse([]byte(tc.in)); ok {
				t.Fatalf("fast path took it: %+v", s)
			}
		})
	}
	for _, tc := range []struct{ in, unknown string }{
		{`{"ociVersion":"1.0.0","futureField":{"x":[1,{"y":null}]}}`, "futureField"},
		{`{"linux":{"resources":{"memory":{"limit":1,"future":true}}}}`, "linux.resources.memory.future"},
		{`{"mounts":[{"destination":"/a","x":1}]}`, "mounts.x"},
	} {
		s, unknown, ok := fastParse([]byte(tc.in))
		if !ok || len(unknown.Paths) != 1 || unknown.Paths[0] != tc.unknown {
			t.Errorf("%s: got ok=%v unknown=%v", tc.in, ok, unknown)
			continue
		}
		ref, _, err := slowParse([]byte(tc.in))
		if err != nil || !reflect.DeepEqual(s, ref) {
			t.Errorf("%s: fast %+v, encoding/json %+v (%v)", tc.in, s, ref, err)
		}
	}
}

// A config with many unknown members names the first maxUnknown and
// counts the rest: one warning, not one per member.
func TestUnknownMembersCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"ociVersion":"1.0.0"`)
	for i := range 1000 {
		fmt.Fprintf(&b, `,"u%d":0`, i)
	}
	b.WriteString("}")
	_, unknown, err := Parse([]byte(b.String()))
	if err != nil || len(unknown.Paths) != maxUnknown || unknown.Paths[0] != "u0" || unknown.More != 1000-maxUnknown {
		t.Fatalf("got %v more=%d (%v)", unknown.Paths, unknown.More, err)
	}
	if got := unknown.String(); !strings.HasPrefix(got, `"u0", "u1", `) || !strings.HasSuffix(got, ` and 984 more`) {
		t.Fatalf("summary %q", got)
	}
}

// FuzzFastParse: on every input the fast path takes, it agrees with
// encoding/json: same spec, and the unknown member encoding/json names
// first is the fast path's first.
func FuzzFastParse(f *testing.F) {
	var full specs.Spec
	n := 0
	testutil.Fill(reflect.ValueOf(&full).Elem(), &n)
	b, _ := json.Marshal(&full)
	f.Add(b)
	b, _ = json.Marshal(Default(true, 1000, 1000))
	f.Add(b)
	for _, s := range []string{
		`{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}`,
		`{"process":{"rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":1}]},"linux":{"sysctl":{"kernel.panic":"1"}}}`,
		`{"linux":{"resources":{"devices":null,"memory":{"limit":null}},"seccomp":{"syscalls":[{"names":null,"args":[{"index":1,"value":2,"op":"SCMP_CMP_EQ"}]}]}}}`,
		`{"annotations":{"a":null,"b":"\u00e9\ud83d\ude00"},"mounts":[null,{}],"x":[]}`,
		`{"linux":{"devices":[{"path":"/dev/x","type":"c","major":1,"minor":-0,"fileMode":438}]}}`,
		`null`,
		"{\"process\":{\"rlimits\":[{\"\x7f\":0}]}}", // names an unknown member needing quotes
		`{"\"":1,"a\nb":2}`,
		`{}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, unknown, ok := fastParse(data)
		if !ok {
			return
		}
		ref, refUnknown, err := slowParse(data)
		if err != nil {
			t.Fatalf("fast path took what encoding/json refuses (%v)", err)
		}
		if !reflect.DeepEqual(s, ref) {
			t.Fatalf("fast path decoded\n%+v\nencoding/json\n%+v", s, ref)
		}
		if len(refUnknown.Paths) != min(len(unknown.Paths), 1) ||
			len(refUnknown.Paths) == 1 && !strings.HasSuffix("."+unknown.Paths[0], "."+refUnknown.Paths[0]) {
			t.Fatalf("unknown members: fast %v, encoding/json %v", unknown, refUnknown)
		}
	})
}

// decode_gen.go is what gendecode.go writes for the runtime-spec in go.mod.
func TestDecodeGenUpToDate(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		if gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") == "" {
			t.Skip("no go command to run the generator with")
		}
	}
	out := filepath.Join(t.TempDir(), "decode_gen.go")
	cmd := exec.Command(gobin, "run", "gendecode.go", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gendecode: %v\n%s", err, b)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("decode_gen.go")
	if !bytes.Equal(got, want) {
		t.Fatal("decode_gen.go is stale: run go generate ./internal/spec")
	}
}
