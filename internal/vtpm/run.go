package vtpm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/trustbox/trustbox/internal/tpmprov"
)

// DaemonOptions configure `trustbox vtpmd`.
type DaemonOptions struct {
	Dir, CADir, Socket string
	// HostTPM is "auto", "none", a device path or "unix:PATH" (see
	// tpmprov.OpenHostTPM). With a host TPM, vTPM EKs are certified by a key
	// resident in it; without one, by the software root in CADir (R-TRUST-6).
	HostTPM string
	Swtpm   string
	// Vtpmx creates kernel vTPMs (see Options); VtpmxPath when empty.
	Vtpmx string
	// UIDBase and UIDCount give each swtpm its own uid (see Options); the
	// range is ignored when vtpmd does not run as root.
	UIDBase, UIDCount uint32
	// PoolSize vTPMs are kept ready with EKs generated (see Options).
	PoolSize int
	// Audit receives the manager's security events (see Options).
	Audit Auditor
	Log   *slog.Logger
}

// DefaultUIDBase starts the uid range for swtpm processes, far above the
// ranges /etc/subuid hands out.
const DefaultUIDBase = 0x60000000

// RunDaemon runs the vTPM manager until ctx ends, then detaches from the
// vTPMs (they keep running for the next start).
func RunDaemon(ctx context.Context, o DaemonOptions) error {
	root, closeHost, err := openRoot(o)
	if err != nil {
		return err
	}
	defer closeHost()
	if os.Geteuid() != 0 {
		o.UIDBase = 0
	}
	m, err := Open(ctx, Options{Dir: o.Dir, CADir: o.CADir, Root: root, Swtpm: o.Swtpm, Vtpmx: o.Vtpmx, Log: o.Log, UIDBase: o.UIDBase, UIDCount: o.UIDCount, PoolSize: o.PoolSize, Audit: o.Audit})
	if err != nil {
		return err
	}
	defer m.Close()
	ln, err := Listen(o.Socket)
	if err != nil {
		return err
	}
	m.log.Info("vtpmd serving", "socket", o.Socket, "root", m.Root().Kind(), "vtpms", len(m.List()))
	return Serve(ctx, ln, m)
}

// openRoot opens the host-TPM root, or returns nil for the software root.
func openRoot(o DaemonOptions) (*tpmprov.Root, func(), error) {
	nop := func() {}
	if o.HostTPM == "" || o.HostTPM == "none" {
		return nil, nop, nil
	}
	host, err := tpmprov.OpenHostTPM(o.HostTPM)
	if errors.Is(err, tpmprov.ErrNoHostTPM) {
		if o.Log != nil {
			o.Log.Warn("no host TPM: vTPM EKs are certified by the SOFTWARE root, and every certificate says so")
		}
		return nil, nop, nil
	}
	if err != nil {
		return nil, nop, err
	}
	ek, err := tpmprov.HostEKPublic(host)
	if err != nil {
		host.Close()
		return nil, nop, err
	}
	root, err := tpmprov.OpenTPMRoot(host, ek)
	if err != nil {
		host.Close()
		return nil, nop, fmt.Errorf("host TPM root: %w", err)
	}
	return root, func() { root.Close(); host.Close() }, nil
}
