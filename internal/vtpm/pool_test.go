package vtpm_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustbox/trustbox/internal/vtpm"
)

// Pooled vTPMs make Create skip EK generation; each still has its own EKs,
// and closing the manager leaves no pooled vTPM behind.
func TestManagerPool(t *testing.T) {
	dir := t.TempDir()
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: dir, PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.WaitPoolFull(ctx); err != nil {
		t.Fatal(err)
	}
	var eks [][]byte
	for _, id := range []string{"p1", "p2", "p3"} { // the third may come from a refill or in line
		if _, err := m.Create(context.Background(), id, request("")); err != nil {
			t.Fatal(err)
		}
		if v := verify(t, m, id); !v.Trusted {
			t.Fatalf("%s: %v", id, v.Reasons)
		}
		ch, _ := m.EKChain(id)
		c, err := x509.ParseCertificate(ch[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, prev := range eks {
			if bytes.Equal(prev, c.RawSubjectPublicKeyInfo) {
				t.Fatalf("%s shares its EK with another vTPM", id)
			}
		}
		eks = append(eks, c.RawSubjectPublicKeyInfo)
	}
	destroyAll(t, m)
	m.Close()
	for _, sub := range []string{"pool", "vtpm", "attach"} {
		if ents, _ := os.ReadDir(filepath.Join(dir, sub)); len(ents) != 0 {
			t.Errorf("%s/ not empty after destroy and close: %v", sub, ents)
		}
	}
}
