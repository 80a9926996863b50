package vtpm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Default locations of the vTPM manager daemon (trustbox vtpmd).
const (
	DefaultDir    = "/run/trustbox/vtpm"
	DefaultCADir  = "/var/lib/trustbox/vtpm-ca"
	DefaultSocket = "/run/trustbox/vtpmd.sock"
)

// maxRequest bounds one control request (a MeasureInput carries an OCI config).
const maxRequest = 16 << 20

// request is one control call; exactly one per connection.
type request struct {
	Op     string         `json:"op"`
	ID     string         `json:"id,omitempty"`
	Create *CreateRequest `json:"create,omitempty"`
	Attach *AttachRequest `json:"attach,omitempty"`
	Nonce  []byte         `json:"nonce,omitempty"`
}

// response answers a request; Error is set on failure.
type response struct {
	Error      string          `json:"error,omitempty"`
	Attachment *Attachment     `json:"attachment,omitempty"`
	Info       *Info           `json:"info,omitempty"`
	List       []Info          `json:"list,omitempty"`
	Evidence   json.RawMessage `json:"evidence,omitempty"`
	EventLog   []byte          `json:"event_log,omitempty"`
	Chain      [][]byte        `json:"chain,omitempty"`
}

// Listen creates the control socket at path: mode 0600 in a 0700-or-tighter
// parent, replacing a stale socket.
func Listen(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("vtpmd socket dir: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("vtpmd socket %s: another vtpmd is listening", path)
	}
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("vtpmd socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("vtpmd socket %s: %w", path, err)
	}
	return ln, nil
}

// Serve answers control requests on ln until ctx ends. Every connection is
// authenticated by its peer credentials (SO_PEERCRED, R-OPS-1): only root
// and the daemon's own uid may call it.
func Serve(ctx context.Context, ln *net.UnixListener, m *Manager) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("vtpmd accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			m.handle(ctx, c)
		}()
	}
}

// peerAllowed checks the caller's uid from SO_PEERCRED.
func peerAllowed(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fmt.Errorf("SO_PEERCRED: %w", cerr)
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Geteuid() {
		return cred, fmt.Errorf("permission denied: uid %d (pid %d) may not use the vTPM manager", cred.Uid, cred.Pid)
	}
	return cred, nil
}

func (m *Manager) handle(ctx context.Context, c *net.UnixConn) {
	enc := json.NewEncoder(c)
	cred, err := peerAllowed(c)
	if err != nil {
		m.log.Warn("vtpmd refused a caller", "err", err)
		m.audit("vtpm.caller-refused", "", map[string]any{"reason": err.Error()})
		enc.Encode(response{Error: err.Error()})
		// Drain what the caller sent (bounded) so closing does not reset
		// the connection before it reads the refusal.
		c.CloseWrite()
		c.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, io.LimitReader(c, maxRequest))
		return
	}
	var req request
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a silent caller cannot pin a handler
	if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&req); err != nil {
		enc.Encode(response{Error: fmt.Sprintf("bad request: %v", err)})
		return
	}
	rsp, err := m.dispatch(ctx, req)
	if err != nil {
		rsp = response{Error: err.Error()}
	}
	m.log.Info("vtpmd request", "op", req.Op, "container", req.ID, "uid", cred.Uid, "pid", cred.Pid, "ok", err == nil)
	enc.Encode(rsp)
}

func (m *Manager) dispatch(ctx context.Context, req request) (response, error) {
	switch req.Op {
	case "create":
		if req.Create == nil {
			return response{}, errors.New("create: missing create request")
		}
		a, err := m.Create(ctx, req.ID, *req.Create)
		return response{Attachment: &a}, err
	case "attach":
		var ar AttachRequest
		if req.Attach != nil {
			ar = *req.Attach
		}
		a, err := m.Attach(ctx, req.ID, ar)
		return response{Attachment: &a}, err
	case "detach":
		return response{}, m.Detach(ctx, req.ID)
	case "destroy":
		return response{}, m.Destroy(ctx, req.ID)
	case "list":
		return response{List: m.List()}, nil
	case "show":
		i, err := m.Show(req.ID)
		return response{Info: &i}, err
	case "attest":
		ev, err := m.Attest(ctx, req.ID, req.Nonce)
		if err != nil {
			return response{}, err
		}
		b, err := json.Marshal(ev)
		return response{Evidence: b}, err
	case "eventlog":
		b, err := m.EventLog(req.ID)
		return response{EventLog: b}, err
	case "ekchain":
		ch, err := m.EKChain(req.ID)
		return response{Chain: ch}, err
	}
	return response{}, fmt.Errorf("unknown operation %q", req.Op)
}
