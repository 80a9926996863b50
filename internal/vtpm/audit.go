package vtpm

// Auditor records security-relevant vTPM operations in a tamper-evident log
// (R-OPS-2); *auditlog.Log satisfies it.
type Auditor interface {
	Append(event, id string, fields map[string]any) error
}

// audit appends one event when an Auditor is configured; a failure to
// record is logged, never silent.
func (m *Manager) audit(event, id string, fields map[string]any) {
	if m.opts.Audit == nil {
		return
	}
	if err := m.opts.Audit.Append(event, id, fields); err != nil {
		m.log.Error("audit log", "event", event, "container", id, "err", err)
	}
}
