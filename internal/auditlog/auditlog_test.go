package auditlog

import (
	"os"
	"strings"
	"testing"
)

func writeN(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := l.Append("create", "c1", map[string]any{"i": i, "nested": map[string]any{"z": 1, "a": []string{"x"}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// R-OPS-2: any deletion, edit, reordering or truncation of events is detected.
func TestVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(lines []string) []string
		want   string
	}{
		{"intact", func(l []string) []string { return l }, ""},
		{"edited field", func(l []string) []string {
			l[1] = strings.Replace(l[1], `"id":"c1"`, `"id":"c2"`, 1)
			return l
		}, "was modified"},
		{"deleted middle", func(l []string) []string { return append(l[:1], l[2:]...) }, "events missing"},
		{"deleted tail", func(l []string) []string { return l[:len(l)-1] }, "removed from the end"},
		{"swapped", func(l []string) []string { l[0], l[1] = l[1], l[0]; return l }, "previous-hash link broken"},
		{"garbage line", func(l []string) []string { return append(l, "{not json") }, "not a JSON event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Open(t.TempDir())
			writeN(t, l, 4)
			data, err := os.ReadFile(l.Path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			lines = tc.tamper(lines)
			if err := os.WriteFile(l.Path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, probs, err := l.Verify()
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(probs) != 0 {
					t.Fatalf("intact log reported problems: %v", probs)
				}
				return
			}
			found := false
			for _, p := range probs {
				found = found || strings.Contains(p.Msg, tc.want)
			}
			if !found {
				t.Fatalf("want a problem containing %q, got %v", tc.want, probs)
			}
		})
	}
}

func TestLogFileIsPrivate(t *testing.T) {
	l := Open(t.TempDir())
	writeN(t, l, 1)
	st, err := os.Stat(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("audit log mode %v, want 0600 (R-OPS-3)", st.Mode().Perm())
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"seq":1,"event":"x","prev":"00","hash":"zz"}` + "\n"))
	f.Add([]byte("\x00\xff\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		verifyStream(strings.NewReader(string(data)))
	})
}

// The head is rewritten in place at a fixed size; a head written by an
// older trustbox (plain JSON, shorter) is read and then overwritten whole.
func TestHeadInPlace(t *testing.T) {
	dir := t.TempDir()
	l := Open(dir)
	writeN(t, l, 1)
	seq, hash, err := l.readHead()
	if err != nil || seq != 1 {
		t.Fatalf("head after one event: %d %q %v", seq, hash, err)
	}
	legacy := `{"seq":1,"hash":"` + hash + `"}`
	if err := os.WriteFile(l.headPath(), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	writeN(t, l, 2)
	b, err := os.ReadFile(l.headPath())
	if err != nil || len(b) != headSize {
		t.Fatalf("head is %d bytes (%v), want %d", len(b), err, headSize)
	}
	if n, probs, err := l.Verify(); err != nil || n != 3 || len(probs) != 0 {
		t.Fatalf("verify: %d events, %v, %v", n, probs, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("files in the state root: %v (want the log and its head only)", ents)
	}
}
