package vtpm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/trustbox/trustbox/internal/auditlog"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
)

// pcr16 reads PCR 16 through an adapter socket, extending it with ext first
// when ext is not nil.
func pcr16(t *testing.T, sock string, ext []byte) []byte {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tpm := transport.FromReadWriter(c)
	if ext != nil {
		d := sha256.Sum256(ext)
		_, err := tpm2.PCRExtend{PCRHandle: tpm2.AuthHandle{Handle: 16, Auth: tpm2.PasswordAuth(nil)},
			Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}}}.Execute(tpm)
		if err != nil {
			t.Fatal(err)
		}
	}
	rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}}.Execute(tpm)
	if err != nil {
		t.Fatal(err)
	}
	return rsp.PCRValues.Digests[0].Buffer
}

// Implements R-TRUST-4, R-OPS-1, R-OPS-2: over the control API, detach
// stops serving a vTPM and keeps it (PCRs, keys, attestation); attach
// serves it again in a fresh directory for a new owner, cutting off
// clients of the old one; both are audited.
func TestDaemonAttachDetach(t *testing.T) {
	testutil.RequiresBinary(t, "swtpm")
	log := auditlog.Open(t.TempDir())
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: t.TempDir(), Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "vtpmd.sock")
	ln, err := vtpm.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- vtpm.Serve(ctx, ln, m) }()
	defer func() { cancel(); <-done; destroyAll(t, m) }()
	c := vtpm.Client{Socket: sock}

	att, err := c.Create(ctx, "ad", request(""))
	if err != nil {
		t.Fatal(err)
	}
	before := pcr16(t, att.HostSocket, []byte("app state"))
	if err := c.Detach(ctx, "ad"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(att.HostDir); err == nil {
		t.Error("attachment dir still there after detach")
	}
	if i, err := c.Show(ctx, "ad"); err != nil || i.Attached || !i.Running {
		t.Errorf("show after detach: %+v %v, want a running, unattached vTPM", i, err)
	}
	if v := verify(t, m, "ad"); !v.Trusted {
		t.Errorf("detached vTPM no longer attests: %v", v.Reasons)
	}
	att2, err := c.Attach(ctx, "ad", vtpm.AttachRequest{Owner: &vtpm.Owner{UID: 1000, GID: 1001}})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(att2.HostDir)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o750 || st.Uid != 1000 || st.Gid != 1001 {
		t.Errorf("re-attached dir %o %d:%d, want 0750 1000:1001", fi.Mode().Perm(), st.Uid, st.Gid)
	}
	if after := pcr16(t, att2.HostSocket, nil); !bytes.Equal(before, after) {
		t.Errorf("PCR 16 %x after detach and attach, want %x: state lost", after, before)
	}
	old, err := net.Dial("unix", att2.HostSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := c.Attach(ctx, "ad", vtpm.AttachRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Read(make([]byte, 1)); err == nil {
		t.Error("a client of the replaced adapter still has a connection")
	}
	if _, err := c.Attach(ctx, "nope", vtpm.AttachRequest{}); err == nil || !strings.Contains(err.Error(), "no vTPM") {
		t.Errorf("attach of an unknown container: %v", err)
	}
	b, _ := os.ReadFile(log.Path)
	for _, ev := range []string{`"vtpm.detach"`, `"vtpm.attach"`, `"owner_uid":1000`} {
		if !strings.Contains(string(b), ev) {
			t.Errorf("audit log lacks %s", ev)
		}
	}
}

// A detached vTPM stays detached across a manager restart, and attaches.
func TestDetachedAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	m := openManager(t, dir)
	if _, err := m.Create(context.Background(), "d", request("")); err != nil {
		t.Fatal(err)
	}
	if err := m.Detach(context.Background(), "d"); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m2 := openManager(t, dir)
	defer destroyAll(t, m2)
	if l := m2.List(); len(l) != 1 || l[0].Attached {
		t.Fatalf("after restart: %+v, want d, not attached", l)
	}
	if _, err := os.Stat(filepath.Join(dir, "attach", "d")); err == nil {
		t.Error("restart served a detached vTPM")
	}
	att, err := m2.Attach(context.Background(), "d", vtpm.AttachRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pcr16(t, att.HostSocket, nil)
}
