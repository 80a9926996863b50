package vtpm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/attest"
	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// Create gives container id a vTPM: starts swtpm, provisions and certifies
// its EKs, enrols its AK, measures the launch (R-TRUST-1) before the
// container runs, and serves the adapter. On failure nothing is left behind.
func (m *Manager) Create(ctx context.Context, id string, req CreateRequest) (Attachment, error) {
	if err := checkID(id); err != nil {
		return Attachment{}, err
	}
	arch, err := archOf(req.Arch)
	if err != nil {
		return Attachment{}, fmt.Errorf("create vTPM for %s: %w", id, err)
	}
	req.Arch = arch
	e := &entry{}
	e.mu.Lock()
	defer e.mu.Unlock()
	m.mu.Lock()
	if m.vtpms[id] != nil {
		m.mu.Unlock()
		return Attachment{}, fmt.Errorf("container %q already has a vTPM", id)
	}
	uid, err := m.allocUID()
	if err != nil {
		m.mu.Unlock()
		return Attachment{}, fmt.Errorf("create vTPM for %s: %w", id, err)
	}
	e.rec.UID = uid
	m.vtpms[id] = e
	m.mu.Unlock()
	if err := m.create(ctx, id, req, e); err != nil {
		m.teardown(context.Background(), id, e)
		m.mu.Lock()
		delete(m.vtpms, id)
		m.mu.Unlock()
		return Attachment{}, fmt.Errorf("create vTPM for %s: %w", id, err)
	}
	m.mu.Lock()
	e.ready = true
	m.mu.Unlock()
	m.log.Info("vTPM created", "container", id, "pid", e.inst.PID(), "root", e.rec.RootKind)
	att := m.attachmentOf(e.rec)
	m.audit("vtpm.create", id, map[string]any{"root": e.rec.RootKind, "swtpm_pid": e.inst.PID(), "uid": e.rec.UID,
		"image": req.Measure.Image.RootfsDigest, "profile": req.Measure.Policy.Profile, "arch": arch, "device": att.HostDevice})
	return att, nil
}

func (m *Manager) create(ctx context.Context, id string, req CreateRequest, e *entry) error {
	os.RemoveAll(m.l.vtpm(id)) // leftovers of a crashed create
	if err := os.Mkdir(m.l.vtpm(id), 0o700); err != nil {
		return err
	}
	if err := os.Chmod(m.l.vtpm(id), dirMode(m.opts)); err != nil {
		return err
	}
	var kernel *kernelRecord
	if req.Arch == ArchKernel {
		// Provisioned in line: pooled swtpms serve sockets, not a device.
		e.rec.TPMDir = filepath.Join("vtpm", id)
		inst, hold, k, err := m.startKernelTPM(ctx, m.l.vtpm(id), e.rec.UID)
		if err != nil {
			return err
		}
		e.inst, e.hold, kernel = inst, hold, k
	} else if p := m.takePooled(); p != nil {
		e.inst, e.rec.TPMDir, e.rec.UID = p.inst, p.rel, p.uid
	} else {
		e.rec.TPMDir = filepath.Join("vtpm", id)
		inst, err := m.startTPM(ctx, m.l.vtpm(id), e.rec.UID)
		if err != nil {
			return err
		}
		e.inst = inst
	}
	end, err := tpmprov.Provision(e.inst, m.root, id)
	if err != nil {
		return err
	}
	akCert, err := attest.Enrol(e.inst, m.root, id, &end.ECC)
	if err != nil {
		return err
	}
	log, err := measureLaunch(e.inst, id, req.Measure)
	if err != nil {
		return err
	}
	if kernel != nil {
		if err := e.inst.Do(0, lockPlatform); err != nil {
			return err
		}
	}
	if err := os.WriteFile(m.l.eventlog(id), log, 0o600); err != nil {
		return err
	}
	e.rec = record{ID: id, Created: time.Now().UTC(), ContainerStateDir: req.ContainerStateDir,
		EKCertRSA: end.RSA.CertDER, EKCertECC: end.ECC.CertDER, AKCert: akCert, RootKind: m.root.Kind(),
		UID: e.rec.UID, TPMDir: e.rec.TPMDir, Owner: req.Owner, Arch: req.Arch, Kernel: kernel}
	if err := m.writeRecord(e.rec); err != nil {
		return err
	}
	return m.expose(id, e, log)
}

// startTPM writes a fresh state key into tdir and starts swtpm on tdir/state.
func (m *Manager) startTPM(ctx context.Context, tdir string, uid uint32) (*Instance, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	defer zero(key)
	if err := os.WriteFile(tpmKey(tdir), key, 0o600); err != nil {
		return nil, fmt.Errorf("write state key: %w", err)
	}
	return Start(ctx, Config{StateDir: tpmState(tdir), Key: key, Binary: m.opts.Swtpm, Credential: credential(uid)})
}

// expose publishes the event log read-only and starts the adapter.
func (m *Manager) expose(id string, e *entry, log []byte) error {
	// attach/ is searchable, not listable; attach/<id> opens only to the
	// container's owner (0750) or to root (0700), so no host user and no
	// other container reaches this adapter socket (R-TRUST-7). The container
	// sees only its own attach/<id>, bind-mounted at /run/tpm.
	if err := os.MkdirAll(filepath.Dir(m.l.attach(id)), 0o711); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Dir(m.l.attach(id)), 0o711); err != nil {
		return err
	}
	if err := os.MkdirAll(m.l.attach(id), 0o700); err != nil {
		return err
	}
	mode := os.FileMode(0o700)
	if o := e.rec.Owner; o != nil {
		if err := os.Chown(m.l.attach(id), int(o.UID), int(o.GID)); err != nil {
			return fmt.Errorf("attachment dir owner: %w", err)
		}
		mode = 0o750
	}
	if err := os.Chmod(m.l.attach(id), mode); err != nil {
		return err
	}
	tmp := m.l.publicLog(id) + ".tmp"
	if err := os.WriteFile(tmp, log, 0o444); err != nil {
		return err
	}
	if err := os.Rename(tmp, m.l.publicLog(id)); err != nil {
		return err
	}
	if e.rec.Arch == ArchKernel && e.rec.Kernel != nil {
		// The kernel's resource manager serves /dev/tpmrmN.
		return ownDevice(e.rec.Kernel.RMPath, e.rec.Owner)
	}
	a, err := ServeAdapter(id, e.inst, m.l.socket(id), m.log)
	if err != nil {
		return err
	}
	a.OnRefuse(func(reason string) { m.audit("vtpm.command-refused", id, map[string]any{"reason": reason}) })
	e.adapter = a
	return nil
}

// measureLaunch extends the launch events (locality 0, then the locality-2
// copy) and returns the encoded event log.
func measureLaunch(inst *Instance, id string, in attestapi.MeasureInput) ([]byte, error) {
	var events []attestapi.Event
	err := inst.Do(0, func(t transport.TPM) error {
		counters, err := measure.Counters(t)
		if err != nil {
			return err
		}
		if events, err = measure.LaunchEvents(id, counters, in); err != nil {
			return err
		}
		return extendAt(t, events, 0)
	})
	if err != nil {
		return nil, err
	}
	if err := inst.Do(2, func(t transport.TPM) error { return extendAt(t, events, 2) }); err != nil {
		return nil, err
	}
	return attestapi.EncodeEventLog(events), nil
}

func extendAt(t transport.TPM, events []attestapi.Event, loc uint8) error {
	for _, e := range events {
		if measure.Locality(e.PCR) == loc {
			if err := measure.Extend(t, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Destroy stops container id's swtpm and removes its state, wiping its key.
func (m *Manager) Destroy(ctx context.Context, id string) error {
	e, err := m.get(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	err = m.teardown(ctx, id, e)
	m.mu.Lock()
	delete(m.vtpms, id)
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("destroy vTPM of %s: %w", id, err)
	}
	m.log.Info("vTPM destroyed", "container", id)
	m.audit("vtpm.destroy", id, nil)
	return nil
}

func (m *Manager) teardown(ctx context.Context, id string, e *entry) error {
	var errs []error
	if e.adapter != nil {
		e.adapter.Close()
		e.adapter = nil
	}
	if e.inst != nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		errs = append(errs, e.inst.Destroy(ctx))
		e.inst = nil
	}
	if e.hold != nil {
		e.hold.Close() // swtpm is gone: the kernel removes the device now
		e.hold = nil
	}
	tdir := m.tdir(record{ID: id, TPMDir: e.rec.TPMDir})
	errs = append(errs, wipeFile(tpmKey(tdir)), os.RemoveAll(tdir), os.RemoveAll(m.l.vtpm(id)), os.RemoveAll(m.l.attach(id)))
	return errors.Join(errs...)
}
