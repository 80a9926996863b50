// Package auditlog is an append-only JSON-lines log whose events are chained by SHA-256, so a deleted or edited event is detectable (R-OPS-2).
package auditlog
