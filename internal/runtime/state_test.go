package runtime

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/spec"
)

// The documented ID grammar, as a regexp: validID must agree with it.
var idGrammar = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$`)

func TestCheckID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"a", true}, {"bench-1-2", true}, {"k8s_pod.a+b", true}, {strings.Repeat("x", 128), true},
		{"", false}, {strings.Repeat("x", 129), false}, {"-a", false}, {".a", false}, {"a/b", false},
		{"a..b", false}, {"../x", false}, {"a b", false}, {"é", false}, {"a\x00", false},
	} {
		if err := CheckID(tc.id); (err == nil) != tc.ok {
			t.Errorf("CheckID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"a", "a-b", "+a", "a+", strings.Repeat("z", 128), strings.Repeat("z", 129), "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validID(id), idGrammar.MatchString(id); got != want {
			t.Fatalf("validID(%q) = %v, the grammar says %v", id, got, want)
		}
	})
}

// save writes the spec as it is until freezeSpec, then as frozen, next to
// the live fields, and Load reads back both.
func TestSaveRoundTrip(t *testing.T) {
	r := &Runtime{Root: t.TempDir()}
	st := &State{State: specs.State{ID: "rt", Status: specs.StateCreating, Bundle: "/b"},
		Spec: &specs.Spec{Version: "1.2.0", Hostname: "h", Process: &specs.Process{Args: []string{"true"}}}}
	if err := os.Mkdir(r.dir("rt"), 0o700); err != nil {
		t.Fatal(err)
	}
	for i, pid := range []int{0, 12345} {
		st.Pid = pid
		if i == 1 {
			st.Spec.Hostname = "h" // set before freezing, as create does
			if err := st.freezeSpec(); err != nil {
				t.Fatal(err)
			}
		} else {
			st.Spec.Hostname = "changed before the freeze"
		}
		if err := r.save(st); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(r.dir("rt"), "state.json"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(raw), `"spec":`); n != 1 {
			t.Fatalf("save %d: %d spec keys in %s", i, n, raw)
		}
		got, err := decodeState(raw)
		if err != nil {
			t.Fatal(err)
		}
		var ref State // what encoding/json reads, field for field
		if err := json.Unmarshal(raw, &ref); err != nil || !reflect.DeepEqual(got, &ref) {
			t.Fatalf("save %d: decodeState read\n%+v\nencoding/json\n%+v (%v)", i, got, &ref, err)
		}
		if got.Pid != pid || got.Spec == nil || got.Spec.Hostname != st.Spec.Hostname || got.Spec.Process.Args[0] != "true" {
			t.Fatalf("save %d read back as pid %d spec %+v", i, got.Pid, got.Spec)
		}
	}
}

// A config within spec.MaxConfigSize can exceed it once saved (encoding/json
// writes each <, > and & in six bytes): its state must still load, or every
// command but delete --force would refuse the container.
func TestLoadStateLargerThanConfigLimit(t *testing.T) {
	r := &Runtime{Root: t.TempDir()}
	big := strings.Repeat("<", 1<<20)
	st := &State{State: specs.State{ID: "big", Status: specs.StateCreated, Bundle: "/b"},
		Spec: &specs.Spec{Version: "1.2.0", Annotations: map[string]string{"a": big}, Process: &specs.Process{Args: []string{"true"}}}}
	if err := os.Mkdir(r.dir("big"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := r.save(st); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(r.dir("big"), "state.json")); err != nil || fi.Size() <= spec.MaxConfigSize {
		t.Fatalf("state.json is not over the config limit (%v): the test proves nothing", err)
	}
	got, err := r.load("big", true)
	if err != nil || got.Spec.Annotations["a"] != big {
		t.Fatalf("load: %v", err)
	}
}
