package vtpm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/trustbox/trustbox/internal/attest"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// Options configure a Manager.
type Options struct {
	// Dir is the manager's directory (see layout.go), created 0700.
	Dir string
	// Root certifies every vTPM's EKs and AK; nil means the software root
	// kept in Dir/ca, which says so on every certificate (R-TRUST-6).
	Root *tpmprov.Root
	// CADir keeps the software root; Dir/ca when empty. Keep it on
	// persistent storage so verifiers can keep trusting the same root.
	CADir string
	// UIDBase, when not 0, runs each swtpm as its own unprivileged uid (and
	// gid) from [UIDBase, UIDBase+UIDCount), so one compromised swtpm cannot
	// read another vTPM's state (R-TRUST-7). Needs root.
	UIDBase, UIDCount uint32
	// PoolSize vTPMs are kept started with EKs generated, so Create skips
	// the slow RSA key generation; 0 turns the pool off.
	PoolSize int
	// Swtpm is the swtpm binary; "swtpm" from PATH when empty.
	Swtpm string
	// Vtpmx creates kernel vTPMs (CreateRequest.Arch "kernel"); VtpmxPath
	// when empty.
	Vtpmx string
	// kernel replaces the host's tpm_vtpm_proxy (tests without /dev/vtpmx).
	kernel kernelTPMs
	Log    *slog.Logger
	// Audit, when set, receives create, destroy, attest, re-attach and
	// refusal events (R-OPS-2, R-OPS-6).
	Audit Auditor
}

// Manager owns every container's vTPM on this host: one swtpm each, their
// data and control sockets, and their adapters (R-TRUST-2, R-TRUST-4).
type Manager struct {
	l    layout
	root *tpmprov.Root
	// kernel makes kernel vTPMs (R-TRUST-3).
	kernel kernelTPMs
	// hostAK certifies the host TPM's AK when the root is in the host TPM.
	hostAK []byte
	opts   Options
	log    *slog.Logger

	mu       sync.Mutex
	vtpms    map[string]*entry
	poolUIDs map[uint32]bool // uids of pooled, unassigned vTPMs
	pool     *pool
}

// entry is one container's vTPM; mu serialises operations on it.
type entry struct {
	mu      sync.Mutex
	rec     record
	inst    *Instance
	adapter *Adapter
	// hold keeps a kernel vTPM's device (and its number) alive; nil for
	// the daemon architecture.
	hold  *os.File
	ready bool
}

// record is what the manager keeps about a vTPM across restarts.
type record struct {
	ID                string    `json:"id"`
	Created           time.Time `json:"created"`
	ContainerStateDir string    `json:"container_state_dir,omitempty"`
	EKCertRSA         []byte    `json:"ek_cert_rsa"`
	EKCertECC         []byte    `json:"ek_cert_ecc"`
	AKCert            []byte    `json:"ak_cert"`
	RootKind          string    `json:"root_kind"`
	UID               uint32    `json:"uid,omitempty"`
	Owner             *Owner    `json:"owner,omitempty"`
	// TPMDir holds swtpm's state and key, relative to the manager dir:
	// vtpm/<id>, or pool/<token> for a vTPM taken from the pool.
	TPMDir string `json:"tpm_dir,omitempty"`
	// Arch is ArchDaemon or ArchKernel ("" in records of older managers:
	// the daemon's); Kernel names a kernel vTPM's device.
	Arch   string        `json:"arch,omitempty"`
	Kernel *kernelRecord `json:"kernel,omitempty"`
	// Detached: the vTPM is kept but served to no container (Detach).
	Detached bool `json:"detached,omitempty"`
}

// tdir is the absolute TPM dir of a record.
func (m *Manager) tdir(rec record) string {
	if rec.TPMDir == "" {
		return m.l.vtpm(rec.ID)
	}
	return filepath.Join(m.l.dir, filepath.Clean("/"+rec.TPMDir))
}

// Owner is a host uid and gid.
type Owner struct {
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
}

// CreateRequest asks for a vTPM for one container.
type CreateRequest struct {
	Measure attestapi.MeasureInput `json:"measure"`
	// Owner is the host uid/gid of the container's process user (its mapped
	// uid under a user namespace). Only it may open the attachment dir
	// (0750); nil means host root only (0700), for containers without a
	// user namespace running as root.
	Owner *Owner `json:"owner,omitempty"`
	// ContainerStateDir is the runtime's state directory for the container;
	// if it is gone when the manager starts, the container was deleted while
	// the manager was down and its vTPM is destroyed.
	ContainerStateDir string `json:"container_state_dir,omitempty"`
	// Arch chooses how the container reaches the vTPM: ArchDaemon (or "",
	// the default) through the adapter socket, ArchKernel as /dev/tpmrm0
	// of a kernel vTPM made through /dev/vtpmx (R-TRUST-3).
	Arch string `json:"arch,omitempty"`
}

// Open starts a manager on opts.Dir and re-attaches to the vTPMs left
// running by an earlier one, cleaning up those whose container is gone.
func Open(ctx context.Context, opts Options) (*Manager, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := layout{opts.Dir}
	// The top dir is searchable (0711, not listable) so a user-namespaced
	// container's runtime can reach its attachment dir; everything below
	// guards itself.
	for d, mode := range map[string]os.FileMode{opts.Dir: 0o711, l.vtpms(): dirMode(opts)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("vTPM manager dir %s: %w", d, err)
		}
		if err := os.Chmod(d, mode); err != nil {
			return nil, fmt.Errorf("vTPM manager dir %s: %w", d, err)
		}
	}
	root := opts.Root
	if root == nil {
		ca := opts.CADir
		if ca == "" {
			ca = l.ca()
		}
		r, err := tpmprov.LoadOrCreateSoftwareRoot(ca)
		if err != nil {
			return nil, err
		}
		root = r
	}
	vtpmx := opts.Vtpmx
	if vtpmx == "" {
		vtpmx = VtpmxPath
	}
	var kernel kernelTPMs = hostKernel{vtpmx}
	if opts.kernel != nil {
		kernel = opts.kernel
	}
	m := &Manager{l: l, root: root, kernel: kernel, opts: opts, log: opts.Log, vtpms: map[string]*entry{}, poolUIDs: map[uint32]bool{}}
	if root.Kind() == "hardware" {
		ak, err := attest.EnrolHost(root)
		if err != nil {
			return nil, err
		}
		m.hostAK = ak
	}
	if err := m.reattach(ctx); err != nil {
		return nil, err
	}
	m.cleanPool()
	if opts.PoolSize > 0 {
		if err := m.startPool(opts.PoolSize); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

// Root is the root certifying this manager's vTPMs.
func (m *Manager) Root() *tpmprov.Root { return m.root }

func (m *Manager) get(id string) (*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.vtpms[id]
	if e == nil || !e.ready {
		return nil, fmt.Errorf("container %q has no vTPM", id)
	}
	return e, nil
}

// Info describes one vTPM for `trustbox vtpm list|show`.
type Info struct {
	ID       string    `json:"id"`
	PID      int       `json:"pid"`
	Running  bool      `json:"running"`
	Created  time.Time `json:"created"`
	RootKind string    `json:"root_kind"`
	HostDir  string    `json:"host_dir"`
	Arch     string    `json:"arch"`
	// Attached is false after Detach: the vTPM is kept, served to no one.
	Attached bool `json:"attached"`
	// Device is a kernel vTPM's host node (/dev/tpmrmN).
	Device string `json:"device,omitempty"`
}

// List describes every vTPM, sorted by container id.
func (m *Manager) List() []Info {
	m.mu.Lock()
	var es []*entry
	for _, e := range m.vtpms {
		if e.ready {
			es = append(es, e)
		}
	}
	m.mu.Unlock()
	out := make([]Info, 0, len(es))
	for _, e := range es {
		if i, ok := m.info(e); ok {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Show describes one vTPM.
func (m *Manager) Show(id string) (Info, error) {
	e, err := m.get(id)
	if err != nil {
		return Info{}, err
	}
	i, ok := m.info(e)
	if !ok {
		return Info{}, fmt.Errorf("container %q has no vTPM", id)
	}
	return i, nil
}

// info describes e; false when it was destroyed meanwhile.
func (m *Manager) info(e *entry) (Info, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inst == nil {
		return Info{}, false
	}
	att := m.attachmentOf(e.rec)
	return Info{ID: e.rec.ID, PID: e.inst.PID(), Running: e.inst.Alive(), Created: e.rec.Created,
		RootKind: e.rec.RootKind, HostDir: att.HostDir, Arch: att.Arch, Attached: !e.rec.Detached, Device: att.HostDevice}, true
}

// Close detaches from every vTPM, leaving swtpm running for the next
// manager; containers keep their TPM state while the manager restarts.
// Pooled vTPMs, which belong to no container, are destroyed.
func (m *Manager) Close() {
	m.stopPool()
	// Take the entries out first: a Create finishing meanwhile needs m.mu.
	m.mu.Lock()
	es := m.vtpms
	m.vtpms = map[string]*entry{}
	m.mu.Unlock()
	for _, e := range es {
		e.mu.Lock()
		if e.adapter != nil {
			e.adapter.Close()
		}
		if e.inst != nil {
			e.inst.Detach()
		}
		if e.hold != nil {
			e.hold.Close() // swtpm keeps the device alive
		}
		e.mu.Unlock()
	}
}

func (m *Manager) writeRecord(rec record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(m.l.record(rec.ID), b)
}

// dirMode is 0700, or 0711 when swtpm runs as other uids that must reach
// their state directories (never list or read the manager's files).
func dirMode(o Options) os.FileMode {
	if o.UIDBase != 0 {
		return 0o711
	}
	return 0o700
}

// allocUID picks the lowest uid of the range no vTPM uses; m.mu is held.
func (m *Manager) allocUID() (uint32, error) {
	if m.opts.UIDBase == 0 {
		return 0, nil
	}
	used := map[uint32]bool{}
	for _, e := range m.vtpms {
		used[e.rec.UID] = true
	}
	for u := range m.poolUIDs {
		used[u] = true
	}
	for u := m.opts.UIDBase; u < m.opts.UIDBase+max(m.opts.UIDCount, 1); u++ {
		if !used[u] {
			return u, nil
		}
	}
	return 0, fmt.Errorf("no free swtpm uid in [%d, %d)", m.opts.UIDBase, m.opts.UIDBase+m.opts.UIDCount)
}

// credential is the uid/gid swtpm runs as for a record, nil for root.
func credential(uid uint32) *syscall.Credential {
	if uid == 0 {
		return nil
	}
	return &syscall.Credential{Uid: uid, Gid: uid}
}

func newKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("vTPM state key: %w", err)
	}
	return k, nil
}

// wipeFile overwrites a key file with zeros before removing it (R-OPS-3).
func wipeFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, make([]byte, fi.Size()), 0o600); err != nil {
		return err
	}
	return os.Remove(path)
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
