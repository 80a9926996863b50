package vtpm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
)

// Commands that load a transient object or session into the TPM.
var createsHandle = map[uint32]bool{
	0x131: true, // CreatePrimary
	0x157: true, // Load
	0x167: true, // LoadExternal
	0x191: true, // CreateLoaded
	0x176: true, // StartAuthSession
	0x161: true, // ContextLoad
	0x186: true, // HashSequenceStart
	0x15B: true, // HMAC_Start / MAC_Start
}

// Commands that may free a tracked handle as a side effect.
var freesHandle = map[uint32]bool{
	0x13E: true, // SequenceComplete
	0x185: true, // EventSequenceComplete
}

// Adapter serves a container's vTPM on a unix socket (R-TRUST-4). swtpm
// takes one client at a time and has no resource manager, so the adapter
// multiplexes connections onto the manager's single swtpm connection,
// refuses filtered commands with a TPM error, tracks the objects and
// sessions each connection loads and flushes what it leaves behind. A
// connection that loads objects holds the instance until it has none left.
type Adapter struct {
	id   string
	inst *Instance
	ln   *net.UnixListener
	log  *slog.Logger
	wg   sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]bool
	onRefuse func(reason string)
}

// OnRefuse sets a function told about every refused command (R-OPS-6).
func (a *Adapter) OnRefuse(f func(reason string)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.onRefuse = f
}

// ServeAdapter listens on path (mode 0666: any process in the container may
// use its own TPM) and serves inst there until Close.
func ServeAdapter(id string, inst *Instance, path string, log *slog.Logger) (*Adapter, error) {
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, errors.Join(errors.New("vTPM adapter for "+id), err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, errors.Join(errors.New("vTPM adapter for "+id), err)
	}
	a := &Adapter{id: id, inst: inst, ln: ln, log: log, conns: map[net.Conn]bool{}}
	a.wg.Add(1)
	go a.accept()
	return a, nil
}

func (a *Adapter) accept() {
	defer a.wg.Done()
	for {
		c, err := a.ln.Accept()
		if err != nil {
			return
		}
		a.mu.Lock()
		if a.conns == nil {
			a.mu.Unlock()
			c.Close()
			return
		}
		a.conns[c] = true
		a.mu.Unlock()
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.serve(c)
			a.mu.Lock()
			delete(a.conns, c)
			a.mu.Unlock()
		}()
	}
}

// Close stops listening (removing the socket), ends every connection and
// waits until their objects are flushed.
func (a *Adapter) Close() {
	a.ln.Close()
	a.mu.Lock()
	for c := range a.conns {
		c.Close()
	}
	a.conns = nil
	a.mu.Unlock()
	a.wg.Wait()
}

// client is one adapter connection's view of the TPM.
type client struct {
	holding bool
	handles map[uint32]bool
}

func (a *Adapter) serve(c net.Conn) {
	defer c.Close()
	cl := &client{handles: map[uint32]bool{}}
	defer a.leave(cl)
	r := bufio.NewReaderSize(c, 4096)
	for {
		cmd, err := ReadFrame(r)
		if err != nil {
			return
		}
		rsp := a.run(cl, cmd)
		if rsp == nil {
			return
		}
		if _, err := c.Write(rsp); err != nil {
			return
		}
	}
}

// run forwards one command and returns the response, or nil if swtpm is gone.
func (a *Adapter) run(cl *client, cmd []byte) []byte {
	if r := Filter(cmd); r != nil {
		a.log.Warn("vTPM command refused", "container", a.id, "reason", r.Reason)
		a.mu.Lock()
		onRefuse := a.onRefuse
		a.mu.Unlock()
		if onRefuse != nil {
			onRefuse(r.Reason)
		}
		return ErrorResponse(r.Code)
	}
	cc := binary.BigEndian.Uint32(cmd[6:10])
	if createsHandle[cc] && !cl.holding {
		if err := a.inst.hold(batonWait); err != nil {
			return ErrorResponse(0x922) // TPM_RC_RETRY: the TSS tries again
		}
		cl.holding = true
	}
	rsp, err := a.inst.sendRaw(cmd)
	if err != nil {
		a.log.Error("vTPM adapter lost swtpm", "container", a.id, "err", err)
		return nil
	}
	if cl.holding {
		a.track(cl, cmd, cc, rsp)
	}
	return rsp
}

// track updates the handles a holding client owns and releases the
// instance once it owns none.
func (a *Adapter) track(cl *client, cmd []byte, cc uint32, rsp []byte) {
	ok := binary.BigEndian.Uint32(rsp[6:10]) == 0
	switch {
	case ok && createsHandle[cc] && len(rsp) >= headerSize+4:
		cl.handles[binary.BigEndian.Uint32(rsp[headerSize:])] = true
	case ok && cc == ccFlushContext && len(cmd) >= headerSize+4:
		delete(cl.handles, binary.BigEndian.Uint32(cmd[headerSize:]))
	}
	hasSession := false
	for h := range cl.handles {
		hasSession = hasSession || h>>24 == 0x02 || h>>24 == 0x03
	}
	if !ok || freesHandle[cc] || (hasSession && binary.BigEndian.Uint16(cmd[0:2]) == 0x8002) {
		// The TPM may have flushed something itself: ask it what is loaded.
		live := a.inst.loadedHandles()
		for h := range cl.handles {
			if !live[h] {
				delete(cl.handles, h)
			}
		}
	}
	if len(cl.handles) == 0 {
		cl.holding = false
		a.inst.release()
	}
}

// leave flushes what a departing client left loaded and lets others in.
func (a *Adapter) leave(cl *client) {
	if !cl.holding {
		return
	}
	for h := range cl.handles {
		a.inst.sendRaw(flushCommand(h))
	}
	cl.holding = false
	a.inst.release()
}

func flushCommand(h uint32) []byte {
	b := make([]byte, headerSize+4)
	binary.BigEndian.PutUint16(b[0:2], 0x8001)
	binary.BigEndian.PutUint32(b[2:6], uint32(len(b)))
	binary.BigEndian.PutUint32(b[6:10], ccFlushContext)
	binary.BigEndian.PutUint32(b[10:14], h)
	return b
}
