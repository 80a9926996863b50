package vtpm_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/trustbox/trustbox/internal/spec"
	"github.com/trustbox/trustbox/internal/testutil"
	"github.com/trustbox/trustbox/internal/vtpm"
)

// Issue 4's acceptance, inside a real trustbox container with the secure
// default spec: the attachment dir mounted at /run/tpm, the static adapter,
// and tpm2-tools from the host's /usr run the whole attestation flow; a
// filtered command is refused with a clear TPM error.
func TestTPM2ToolsInsideContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.RequiresBinary(t, "tpm2_quote")
	bin := testutil.TrustboxBinary(t)
	mdir := t.TempDir()
	os.Chmod(filepath.Dir(mdir), 0o711) // as /run is: the runtime reaches /run/trustbox/vtpm/attach/<id>
	m := openManager(t, mdir)
	defer destroyAll(t, m)
	req := request("")
	// The default spec maps the container's root to DefaultMapping.
	req.Owner = &vtpm.Owner{UID: spec.DefaultMapping, GID: spec.DefaultMapping}
	att, err := m.Create(context.Background(), "inside", req)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	os.Chmod(filepath.Dir(base), 0o755) // the container's mapped root must reach its rootfs
	os.Chmod(base, 0o755)
	rootfs := filepath.Join(base, "rootfs")
	for _, d := range []string{"usr", "etc", "proc", "sys", "dev", "tmp", "run/tpm"} {
		os.MkdirAll(filepath.Join(rootfs, d), 0o755)
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		os.Symlink("usr/"+l, filepath.Join(rootfs, l))
	}
	os.WriteFile(filepath.Join(rootfs, "tbtpm-adapter"), nil, 0o755)
	script := strings.Join([]string{
		"set -e", "cd /tmp",
		"tpm2_startup -c",
		"tpm2_pcrread sha256:8,17",
		"tpm2_pcrextend 16:sha256=" + strings.Repeat("cd", 32),
		"tpm2_createek -c ek.ctx -G ecc -u ek.pub",
		"tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa -u ak.pub -f pem",
		"tpm2_quote -c ak.ctx -l sha256:8,16,17 -q 5eed -m q.msg -s q.sig -o q.pcrs -g sha256",
		"tpm2_checkquote -u ak.pub -m q.msg -s q.sig -f q.pcrs -g sha256 -q 5eed",
		"test -s /run/tpm/eventlog",
		"echo FLOW-OK",
		"if tpm2_clear -c p 2>err; then echo CLEAR-ALLOWED; else grep -q 'the command is disabled' err && echo CLEAR-REFUSED; fi",
	}, "\n")
	s := spec.Default(false, 0, 0)
	s.Process.Terminal = false
	s.Process.Args = []string{"/bin/sh", "-c", script}
	s.Process.Env = append(s.Process.Env, "TPM2TOOLS_TCTI=cmd:/tbtpm-adapter /run/tpm/tpm.sock")
	ro := []string{"rbind", "ro", "nosuid", "nodev"}
	s.Mounts = append(s.Mounts,
		specs.Mount{Destination: "/usr", Type: "bind", Source: "/usr", Options: ro},
		specs.Mount{Destination: "/etc", Type: "bind", Source: "/etc", Options: ro},
		specs.Mount{Destination: "/tbtpm-adapter", Type: "bind", Source: adapterBinary(t), Options: ro},
		specs.Mount{Destination: "/run/tpm", Type: "bind", Source: att.HostDir, Options: ro},
	)
	b, _ := json.MarshalIndent(s, "", " ")
	os.WriteFile(filepath.Join(base, "config.json"), b, 0o644)
	os.Chmod(filepath.Dir(adapterBinary(t)), 0o755)
	out, err := exec.Command(bin, "--root", t.TempDir(), "run", "--bundle", base, "tpm-inside").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "FLOW-OK") {
		t.Fatalf("tpm2-tools inside the container: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "CLEAR-REFUSED") {
		t.Errorf("tpm2_clear inside the container was not refused with TPM_RC_DISABLED:\n%s", out)
	}
}
