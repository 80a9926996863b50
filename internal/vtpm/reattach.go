package vtpm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-tpm/tpm2"
)

// reattach finds the vTPMs an earlier manager left: a vTPM whose container
// state is gone is destroyed (the container was deleted while the manager
// was down); one whose swtpm still runs is re-attached with its PCRs
// intact; one whose swtpm died is restarted from its encrypted state, and
// its reset counter tells verifiers the launch PCRs were lost.
func (m *Manager) reattach(ctx context.Context) error {
	ents, err := os.ReadDir(m.l.vtpms())
	if err != nil {
		return fmt.Errorf("vTPM manager: %w", err)
	}
	for _, d := range ents {
		id := d.Name()
		if checkID(id) != nil {
			continue
		}
		if err := m.reattachOne(ctx, id); err != nil {
			m.log.Error("vTPM not re-attached; removed", "container", id, "err", err)
			m.audit("vtpm.cleanup", id, map[string]any{"reason": err.Error()})
			m.teardown(ctx, id, m.orphan(ctx, id))
		}
	}
	// Attach dirs whose vTPM is gone (a manager killed mid-create or mid-destroy).
	stale, _ := os.ReadDir(filepath.Dir(m.l.attach("x")))
	for _, d := range stale {
		if _, ok := m.vtpms[d.Name()]; !ok {
			os.RemoveAll(m.l.attach(d.Name()))
		}
	}
	return nil
}

func (m *Manager) reattachOne(ctx context.Context, id string) error {
	b, err := os.ReadFile(m.l.record(id))
	if err != nil {
		return err
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if rec.ContainerStateDir != "" {
		if _, err := os.Stat(rec.ContainerStateDir); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("container state %s is gone: container deleted while the manager was down", rec.ContainerStateDir)
		}
	}
	e := &entry{rec: rec}
	tdir := m.tdir(rec)
	if rec.Arch == ArchKernel {
		inst, hold, err := m.reattachKernel(ctx, rec)
		if err != nil {
			return err
		}
		e.hold = hold
		return m.readopt(id, e, inst)
	}
	inst, err := Attach(ctx, tpmState(tdir))
	if err == nil {
		if _, perr := (tpm2.GetRandom{BytesRequested: 1}).Execute(inst); perr != nil {
			inst.kill() // alive but not answering: dying, or wedged
			inst, err = nil, perr
		}
	}
	if err != nil {
		m.log.Warn("vTPM swtpm gone; restarting it from its state (launch PCRs are lost)", "container", id, "err", err)
		key, kerr := os.ReadFile(tpmKey(tdir))
		if kerr != nil {
			return kerr
		}
		defer zero(key)
		if inst, err = Start(ctx, Config{StateDir: tpmState(tdir), Key: key, Binary: m.opts.Swtpm, Credential: credential(rec.UID)}); err != nil {
			return err
		}
	}
	return m.readopt(id, e, inst)
}

// readopt serves a re-attached vTPM again (unless it was detached) and
// records it.
func (m *Manager) readopt(id string, e *entry, inst *Instance) error {
	e.inst = inst
	log, err := os.ReadFile(m.l.eventlog(id))
	if err == nil && !e.rec.Detached {
		err = m.expose(id, e, log)
	}
	if err != nil {
		inst.Detach()
		if e.hold != nil {
			e.hold.Close()
		}
		return err
	}
	e.ready = true
	m.mu.Lock()
	m.vtpms[id] = e
	m.mu.Unlock()
	m.log.Info("vTPM re-attached", "container", id, "pid", inst.PID())
	m.audit("vtpm.reattach", id, map[string]any{"swtpm_pid": inst.PID()})
	return nil
}

// orphan is an entry for a vTPM that could not be re-attached, holding its
// swtpm if one still runs, so teardown can stop it.
func (m *Manager) orphan(ctx context.Context, id string) *entry {
	e := &entry{}
	if b, err := os.ReadFile(m.l.record(id)); err == nil {
		json.Unmarshal(b, &e.rec)
	}
	e.rec.ID = id
	if e.rec.Arch == ArchKernel && e.rec.Kernel != nil {
		if inst, hold, err := m.attachKernel(ctx, tpmState(m.tdir(e.rec)), e.rec.Kernel); err == nil {
			e.inst, e.hold = inst, hold
		} else if proc, err := attachPID(tpmState(m.tdir(e.rec))); err == nil {
			proc.kill() // swtpm runs but its device is gone or wedged
		}
		return e
	}
	if inst, err := Attach(ctx, tpmState(m.tdir(e.rec))); err == nil {
		e.inst = inst
	}
	return e
}

// reattachKernel finds a kernel vTPM's swtpm again. One that died is not
// restarted: the kernel removed its device, and a new device would get a
// number the running container was never allowed (nor given a node for),
// so the vTPM is destroyed instead and the container must be recreated.
func (m *Manager) reattachKernel(ctx context.Context, rec record) (*Instance, *os.File, error) {
	if rec.Kernel == nil {
		return nil, nil, errors.New("kernel vTPM record names no device")
	}
	inst, hold, err := m.attachKernel(ctx, tpmState(m.tdir(rec)), rec.Kernel)
	if err == nil {
		if _, perr := (tpm2.GetRandom{BytesRequested: 1}).Execute(inst); perr != nil {
			inst.kill()
			if hold != nil {
				hold.Close()
			}
			err = perr
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("kernel vTPM tpm%d lost (its device cannot be given back to the running container): %w", rec.Kernel.TPMNum, err)
	}
	return inst, hold, nil
}
