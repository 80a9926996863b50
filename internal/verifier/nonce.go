package verifier

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// NonceStore remembers nonces already answered, so one cannot be replayed.
type NonceStore interface {
	// Use records nonce and reports whether it was fresh.
	Use(nonce []byte) bool
}

// MemoryNonces is an in-process NonceStore.
type MemoryNonces struct {
	mu   sync.Mutex
	seen map[string]bool
}

// Use implements NonceStore.
func (m *MemoryNonces) Use(nonce []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	k := hex.EncodeToString(nonce)
	if m.seen[k] {
		return false
	}
	m.seen[k] = true
	return true
}

// checkNonce: the quote must answer this verifier's challenge, once.
func checkNonce(q *quoted, opts Options) error {
	if len(opts.Nonce) == 0 {
		return refusal("no nonce given: the verifier must issue one to detect replays")
	}
	if subtle.ConstantTimeCompare(q.nonce, opts.Nonce) != 1 {
		return refusal(fmt.Sprintf("nonce mismatch: quote answers %x, expected %x (replayed evidence)", q.nonce, opts.Nonce))
	}
	if opts.Seen != nil && !opts.Seen.Use(opts.Nonce) {
		return refusal(fmt.Sprintf("replayed nonce: %x was already used", opts.Nonce))
	}
	return nil
}

// FileNonces is a NonceStore kept in a file (one hex nonce a line, 0600),
// so `trustbox verify --seen FILE` refuses a nonce used by an earlier run.
type FileNonces struct{ Path string }

// Use implements NonceStore; an unreadable or unwritable file counts as
// "not fresh", so a broken store never lets a replay through.
func (f FileNonces) Use(nonce []byte) bool {
	fh, err := os.OpenFile(f.Path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return false
	}
	defer fh.Close()
	if err := unix.Flock(int(fh.Fd()), unix.LOCK_EX); err != nil {
		return false
	}
	k := hex.EncodeToString(nonce)
	b, err := io.ReadAll(fh)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == k {
			return false
		}
	}
	_, err = fh.WriteString(k + "\n")
	return err == nil
}
