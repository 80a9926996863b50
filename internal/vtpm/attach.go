package vtpm

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// AttachRequest says how to serve an existing vTPM to its container again
// (Manager.Attach): after the container's mount namespace was recreated,
// its process user changed, or the vTPM was detached.
type AttachRequest struct {
	// Owner is the host uid/gid allowed to open the attachment dir, as in
	// CreateRequest; nil means host root only.
	Owner *Owner `json:"owner,omitempty"`
	// ContainerStateDir replaces the recorded one when not empty (see
	// CreateRequest).
	ContainerStateDir string `json:"container_state_dir,omitempty"`
}

// Attach serves container id's existing vTPM afresh and returns how to give
// it to the container. The attachment dir is made anew (a new inode, so a
// bind mount of the old one, in a namespace that should have gone, no
// longer reaches the adapter) and a new adapter listens in it. The vTPM
// itself, its PCRs, keys and event log, is untouched. A kernel vTPM keeps
// its device; only its event-log dir is published again.
func (m *Manager) Attach(ctx context.Context, id string, req AttachRequest) (Attachment, error) {
	e, err := m.get(id)
	if err != nil {
		return Attachment{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inst == nil {
		return Attachment{}, fmt.Errorf("attach vTPM of %s: it is being destroyed", id)
	}
	log, err := os.ReadFile(m.l.eventlog(id))
	if err != nil {
		return Attachment{}, fmt.Errorf("attach vTPM of %s: event log: %w", id, err)
	}
	if err := m.unexpose(id, e); err != nil {
		return Attachment{}, fmt.Errorf("attach vTPM of %s: %w", id, err)
	}
	rec := e.rec
	rec.Owner, rec.Detached = req.Owner, false
	if req.ContainerStateDir != "" {
		rec.ContainerStateDir = req.ContainerStateDir
	}
	if err := m.writeRecord(rec); err != nil {
		return Attachment{}, fmt.Errorf("attach vTPM of %s: %w", id, err)
	}
	e.rec = rec
	if err := m.expose(id, e, log); err != nil {
		return Attachment{}, fmt.Errorf("attach vTPM of %s: %w", id, err)
	}
	att := m.attachmentOf(rec)
	fields := map[string]any{"arch": att.Arch, "swtpm_pid": e.inst.PID(), "container_state_dir": rec.ContainerStateDir}
	if o := rec.Owner; o != nil {
		fields["owner_uid"], fields["owner_gid"] = o.UID, o.GID
	}
	m.log.Info("vTPM attached", "container", id, "arch", att.Arch)
	m.audit("vtpm.attach", id, fields)
	return att, nil
}

// Detach stops serving container id's vTPM: the adapter closes (its
// clients' objects flushed) and the attachment dir is removed, while swtpm,
// its state and PCRs stay, across manager restarts too, until Attach or
// Destroy. A kernel vTPM cannot be detached: its device node and cgroup
// rule are in the container, out of the manager's reach.
func (m *Manager) Detach(ctx context.Context, id string) error {
	e, err := m.get(id)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rec.Arch == ArchKernel {
		return fmt.Errorf("detach vTPM of %s: a kernel vTPM is a device in the container's /dev and device cgroup, which only the runtime can take away: destroy it, or delete the container", id)
	}
	if e.inst == nil {
		return fmt.Errorf("detach vTPM of %s: it is being destroyed", id)
	}
	if err := m.unexpose(id, e); err != nil {
		return fmt.Errorf("detach vTPM of %s: %w", id, err)
	}
	rec := e.rec
	rec.Detached = true
	if err := m.writeRecord(rec); err != nil {
		return fmt.Errorf("detach vTPM of %s: %w", id, err)
	}
	e.rec = rec
	m.log.Info("vTPM detached", "container", id)
	m.audit("vtpm.detach", id, map[string]any{"swtpm_pid": e.inst.PID()})
	return nil
}

// unexpose closes the adapter and removes the attachment dir.
func (m *Manager) unexpose(id string, e *entry) error {
	if e.adapter != nil {
		e.adapter.Close()
		e.adapter = nil
	}
	if err := os.RemoveAll(m.l.attach(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove attachment dir: %w", err)
	}
	return nil
}
