package vtpm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/trustbox/trustbox/internal/tpmprov"
)

// The pool keeps a few vTPMs started and provisioned (EKs generated, which
// the RSA-2048 key generation dominates, and certified), so Create only has
// to enrol the AK for the container and measure. Each pooled vTPM has its own
// endorsement seed: nothing is copied between vTPMs.
type pool struct {
	ch     chan *pooled
	cancel context.CancelFunc
	done   chan struct{}
	full   chan struct{} // closed when the pool first fills up
	once   sync.Once
}

type pooled struct {
	inst *Instance
	rel  string // TPM dir relative to the manager dir
	uid  uint32
}

// cleanPool removes the pooled vTPMs an earlier manager left (they belong
// to no container), with or without a pool now.
func (m *Manager) cleanPool() {
	ents, _ := os.ReadDir(m.l.pool())
	for _, d := range ents {
		tdir := filepath.Join(m.l.pool(), d.Name())
		if inst, err := Attach(context.Background(), tpmState(tdir)); err == nil {
			inst.Destroy(context.Background())
		}
		wipeFile(tpmKey(tdir))
		os.RemoveAll(tdir)
	}
}

// startPool keeps size provisioned vTPMs ready.
func (m *Manager) startPool(size int) error {
	if err := os.MkdirAll(m.l.pool(), 0o700); err != nil {
		return err
	}
	if err := os.Chmod(m.l.pool(), dirMode(m.opts)); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.pool = &pool{ch: make(chan *pooled, size), cancel: cancel, done: make(chan struct{}), full: make(chan struct{})}
	go m.fill(ctx)
	return nil
}

func (m *Manager) fill(ctx context.Context) {
	defer close(m.pool.done)
	for ctx.Err() == nil {
		p, err := m.newPooled(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Error("vTPM pool: cannot prepare a vTPM; creates will provision in line", "err", err)
			}
			return
		}
		select {
		case m.pool.ch <- p:
			if len(m.pool.ch) == cap(m.pool.ch) {
				m.pool.once.Do(func() { close(m.pool.full) })
			}
		case <-ctx.Done():
			m.discard(p)
		}
	}
}

func (m *Manager) newPooled(ctx context.Context) (*pooled, error) {
	tok := make([]byte, 8)
	rand.Read(tok)
	rel := filepath.Join("pool", hex.EncodeToString(tok))
	tdir := filepath.Join(m.l.dir, rel)
	m.mu.Lock()
	uid, err := m.allocUID()
	if err == nil {
		m.poolUIDs[uid] = true
	}
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	p := &pooled{rel: rel, uid: uid}
	if err = os.Mkdir(tdir, 0o700); err == nil {
		err = os.Chmod(tdir, dirMode(m.opts))
	}
	if err == nil {
		p.inst, err = m.startTPM(ctx, tdir, uid)
	}
	if err == nil {
		_, err = tpmprov.Provision(p.inst, m.root, "pool-"+hex.EncodeToString(tok))
	}
	if err != nil {
		m.discard(p)
		return nil, err
	}
	return p, nil
}

// takePooled returns a ready vTPM, or nil when the pool is off or empty.
func (m *Manager) takePooled() *pooled {
	if m.pool == nil {
		return nil
	}
	select {
	case p := <-m.pool.ch:
		m.mu.Lock()
		delete(m.poolUIDs, p.uid)
		m.mu.Unlock()
		return p
	default:
		return nil
	}
}

func (m *Manager) discard(p *pooled) {
	if p.inst != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		p.inst.Destroy(ctx)
		cancel()
	}
	tdir := filepath.Join(m.l.dir, p.rel)
	wipeFile(tpmKey(tdir))
	os.RemoveAll(tdir)
	m.mu.Lock()
	delete(m.poolUIDs, p.uid)
	m.mu.Unlock()
}

// stopPool stops refilling and destroys what is pooled.
func (m *Manager) stopPool() {
	if m.pool == nil {
		return
	}
	m.pool.cancel()
	<-m.pool.done
	for {
		select {
		case p := <-m.pool.ch:
			m.discard(p)
		default:
			m.pool = nil
			return
		}
	}
}

// WaitPoolFull blocks until the pool has filled up once, or ctx ends; it
// returns at once when the pool is off.
func (m *Manager) WaitPoolFull(ctx context.Context) error {
	if m.pool == nil {
		return nil
	}
	select {
	case <-m.pool.full:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
