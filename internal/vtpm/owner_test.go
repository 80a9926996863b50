package vtpm

import "testing"

func TestParseOwner(t *testing.T) {
	if o, err := ParseOwner(""); o != nil || err != nil {
		t.Errorf(`ParseOwner("") = %v, %v; want no owner`, o, err)
	}
	if o, err := ParseOwner("1000:100"); err != nil || *o != (Owner{1000, 100}) {
		t.Errorf(`ParseOwner("1000:100") = %v, %v`, o, err)
	}
	for _, bad := range []string{"1000", ":", "a:b", "1:2:3", "-1:0", "4294967296:0", " 1:2"} {
		if _, err := ParseOwner(bad); err == nil {
			t.Errorf("ParseOwner(%q) accepted", bad)
		}
	}
}

// FuzzParseOwner: whatever is accepted round-trips through String.
func FuzzParseOwner(f *testing.F) {
	for _, s := range []string{"", "0:0", "1000:100", "4294967295:1", "a:b", "1:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOwner(s)
		if err != nil || o == nil {
			return
		}
		back, err := ParseOwner(o.String())
		if err != nil || *back != *o {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, o, o.String(), back, err)
		}
	})
}
