package vtpm

import (
	"context"
	"fmt"
	"os"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/attest"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// Attest quotes container id's launch PCRs with nonce and returns the
// evidence: quote, PCR values, event log, AK and EK certificates and the
// root chain, labelled with the root's kind (R-TRUST-6).
func (m *Manager) Attest(ctx context.Context, id string, nonce []byte) (*attestapi.Evidence, error) {
	e, err := m.get(id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	log, err := os.ReadFile(m.l.eventlog(id))
	if err != nil {
		return nil, fmt.Errorf("attest %s: event log: %w", id, err)
	}
	in := attest.Input{ContainerID: id, Nonce: nonce, EventLog: log, AKCert: e.rec.AKCert,
		EKCert: e.rec.EKCertECC, Chain: [][]byte{m.root.Cert.Raw}, RootKind: e.rec.RootKind}
	var ev *attestapi.Evidence
	err = e.inst.Do(0, func(t transport.TPM) error {
		ev, err = attest.Collect(t, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	if m.hostAK != nil {
		if ev.HostQuote, err = attest.HostQuote(m.root, nonce); err != nil {
			return nil, fmt.Errorf("attest %s: %w", id, err)
		}
		ev.HostAKCert = m.hostAK
	}
	m.audit("vtpm.attest", id, map[string]any{"nonce": fmt.Sprintf("%x", nonce)})
	return ev, nil
}

// EventLog returns container id's launch event log.
func (m *Manager) EventLog(id string) ([]byte, error) {
	if _, err := m.get(id); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(m.l.eventlog(id))
	if err != nil {
		return nil, fmt.Errorf("event log of %s: %w", id, err)
	}
	return b, nil
}

// EKChain returns container id's EK certificates (RSA, ECC) followed by the root certificate, DER.
func (m *Manager) EKChain(id string) ([][]byte, error) {
	e, err := m.get(id)
	if err != nil {
		return nil, err
	}
	return [][]byte{e.rec.EKCertRSA, e.rec.EKCertECC, m.root.Cert.Raw}, nil
}
