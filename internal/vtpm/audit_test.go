package vtpm_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/auditlog"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
)

// Implements R-OPS-2 and R-OPS-6: create, a refused tenant command and
// destroy land in the tamper-evident audit log.
func TestManagerAudits(t *testing.T) {
	testutil.RequiresBinary(t, "swtpm")
	log := auditlog.Open(t.TempDir())
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: t.TempDir(), Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	att, err := m.Create(context.Background(), "aud", request(""))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("unix", att.HostSocket)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tpm2.Clear{AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHLockout, Auth: tpm2.PasswordAuth(nil)}}.Execute(transport.FromReadWriter(c))
	c.Close()
	if err == nil || !strings.Contains(err.Error(), "TPM_RC_DISABLED") {
		t.Errorf("Clear through the adapter: %v, want TPM_RC_DISABLED", err)
	}
	if err := m.Destroy(context.Background(), "aud"); err != nil {
		t.Fatal(err)
	}
	n, problems, err := log.Verify()
	if err != nil || len(problems) != 0 {
		t.Fatalf("audit log does not verify: %v %v", err, problems)
	}
	b, _ := os.ReadFile(log.Path)
	for _, ev := range []string{"vtpm.create", "vtpm.command-refused", "vtpm.destroy"} {
		if !strings.Contains(string(b), `"`+ev+`"`) {
			t.Errorf("audit log (%d events) lacks %s", n, ev)
		}
	}
}
