package attest_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/trustbox/trustbox/internal/attest"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/internal/vtpm"
)

func provisioned(t *testing.T, root *tpmprov.Root, id string) (*vtpm.Instance, *tpmprov.Endorsement) {
	t.Helper()
	testutil.RequiresBinary(t, "swtpm")
	key := make([]byte, vtpm.KeySize)
	rand.Read(key)
	inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(t.TempDir(), "tpm"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Destroy(context.Background()) })
	end, err := tpmprov.Provision(inst, root, id)
	if err != nil {
		t.Fatal(err)
	}
	return inst, end
}

func ekHandle(t *testing.T, tpm *vtpm.Instance, h tpm2.TPMHandle) tpm2.NamedHandle {
	rp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	return tpm2.NamedHandle{Handle: h, Name: rp.Name}
}

// Implements R-TRUST-6: the AK-EK binding holds only inside one TPM; a
// challenge made for another TPM's EK cannot be activated.
func TestCredentialActivationBindsAKToEK(t *testing.T) {
	root, err := tpmprov.LoadOrCreateSoftwareRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, endA := provisioned(t, root, "a")
	_, endB := provisioned(t, root, "b")
	ak, err := attest.LoadAK(a)
	if err != nil {
		t.Fatal(err)
	}
	defer ak.Close()
	cases := []struct {
		name  string
		ekPub *tpm2.TPMTPublic
		ok    bool
	}{
		{"own ECC EK", &endA.ECC.Public, true},
		{"other TPM's EK", &endB.ECC.Public, false},
	}
	for _, c := range cases {
		err := attest.ProveResidency(a, ekHandle(t, a, tpmprov.ECCEKHandle), c.ekPub, ak.Handle)
		if (err == nil) != c.ok {
			t.Errorf("%s: err=%v, want ok=%v", c.name, err, c.ok)
		}
	}
	if _, err := attest.Enrol(a, root, "a", &endA.ECC); err != nil {
		t.Fatalf("enrol with own EK: %v", err)
	}
}

// The hardware root's key is provably resident in the host TPM holding the
// host EK its certificate names (second swtpm as host TPM).
func TestHostRootResidency(t *testing.T) {
	maker, err := tpmprov.LoadOrCreateSoftwareRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	host, end := provisioned(t, maker, "host")
	root, err := tpmprov.OpenTPMRoot(host, &end.RSA.Public)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	key, _ := root.RootKeyHandle()
	if err := attest.ProveResidency(host, ekHandle(t, host, tpmprov.RSAEKHandle), &end.RSA.Public, key); err != nil {
		t.Fatalf("host root key not proven resident with the host EK: %v", err)
	}
}
