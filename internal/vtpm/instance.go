package vtpm

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
)

// dataConn is the manager's TPM channel: a unix socket to swtpm, or the
// host's /dev/tpmN for a kernel vTPM.
type dataConn interface {
	io.ReadWriteCloser
	SetDeadline(time.Time) error
}

// Instance is the manager's handle on one running swtpm. All TPM traffic goes
// through it, one command at a time, since swtpm has no resource manager.
type Instance struct {
	dir     string
	proc    *process
	timeout time.Duration

	// baton is held by whoever has transient objects or sessions loaded:
	// one adapter client, or the manager inside Do. swtpm has three object
	// slots and no resource manager, so holders take turns (see adapter.go).
	baton chan struct{}

	mu       sync.Mutex
	data     dataConn
	dataR    *bufio.Reader // one read syscall per response
	ctrl     net.Conn
	locality uint8
	closed   bool
}

var _ transport.TPM = (*Instance)(nil)

// Attach reconnects to the swtpm still running in stateDir after a manager
// restart (its pid file names it).
func Attach(ctx context.Context, stateDir string) (*Instance, error) {
	proc, err := attachPID(stateDir)
	if err != nil {
		return nil, err
	}
	inst, err := connect(ctx, stateDir, proc)
	if err != nil {
		proc.release()
		return nil, err
	}
	return inst, nil
}

// attachPID finds the swtpm its pid file in stateDir's sidecar names.
func attachPID(stateDir string) (*process, error) {
	b, err := os.ReadFile(sidecar(stateDir, pidFile))
	if err != nil {
		return nil, fmt.Errorf("attach to swtpm in %s: %w", stateDir, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("attach to swtpm in %s: bad pid file: %w", stateDir, err)
	}
	proc, err := attachProcess(pid)
	if err != nil {
		return nil, fmt.Errorf("attach to swtpm in %s: %w", stateDir, err)
	}
	return proc, nil
}

// Dir is the instance's state directory.
func (i *Instance) Dir() string { return i.dir }

// PID is swtpm's process id.
func (i *Instance) PID() int { return i.proc.pid }

// Alive reports whether swtpm is still running.
func (i *Instance) Alive() bool { return i.proc.alive() }

// Send runs one TPM command and returns the response (transport.TPM).
// Warnings that ask the caller to send the command again are retried a few
// times, as a TSS would.
func (i *Instance) Send(cmd []byte) ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.sendRetry(cmd)
}

// sendRaw forwards a tenant's command once, leaving retries to its TSS.
func (i *Instance) sendRaw(cmd []byte) ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.sendLocked(cmd)
}

func (i *Instance) sendRetry(cmd []byte) ([]byte, error) {
	for n := 0; ; n++ {
		rsp, err := i.sendLocked(cmd)
		if err != nil || n == 9 || !retryable(rsp) {
			return rsp, err
		}
	}
}

// retryable reports TPM_RC_RETRY, TPM_RC_YIELDED and TPM_RC_TESTING.
func retryable(rsp []byte) bool {
	if len(rsp) < headerSize {
		return false
	}
	switch binary.BigEndian.Uint32(rsp[6:10]) {
	case 0x922, 0x908, 0x90A:
		return true
	}
	return false
}

func (i *Instance) sendLocked(cmd []byte) ([]byte, error) {
	if i.closed {
		return nil, errors.New("swtpm connection is closed")
	}
	i.data.SetDeadline(time.Now().Add(i.timeout))
	if _, err := i.data.Write(cmd); err != nil {
		return nil, fmt.Errorf("send to swtpm in %s: %w%s", i.dir, err, i.exitNote())
	}
	rsp, err := ReadFrame(i.dataR)
	if err != nil {
		return nil, fmt.Errorf("read from swtpm in %s: %w%s", i.dir, err, i.exitNote())
	}
	return rsp, nil
}

// exitNote explains a broken connection when swtpm has exited: the last
// line of its log usually says why (a state dir it cannot open, a bad key).
func (i *Instance) exitNote() string {
	// A broken connection usually means swtpm is on its way out: give it a
	// moment to finish exiting, bounded.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if i.proc.wait(ctx) != nil {
		return ""
	}
	b, _ := os.ReadFile(sidecar(i.dir, logFile))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return fmt.Sprintf(" (swtpm exited; its log says: %q)", lines[len(lines)-1])
}

// locked is a transport.TPM valid only inside Do.
type locked struct{ i *Instance }

func (l locked) Send(cmd []byte) ([]byte, error) { return l.i.sendRetry(cmd) }

// Do runs fn with exclusive use of the TPM at the given locality; locality
// returns to 0 afterwards. Only the manager can change locality: the control
// channel never reaches a container, so PCRs 17-22 (extendable only at
// locality 2 and above) hold a launch record the tenant cannot forge.
func (i *Instance) Do(locality uint8, fn func(t transport.TPM) error) error {
	if err := i.hold(batonWait); err != nil {
		return err
	}
	defer i.release()
	i.mu.Lock()
	defer i.mu.Unlock()
	if locality != i.locality {
		if err := i.setLocalityLocked(locality); err != nil {
			return err
		}
		defer i.setLocalityLocked(0)
	}
	return fn(locked{i})
}

func (i *Instance) setLocalityLocked(l uint8) error {
	i.ctrl.SetDeadline(time.Now().Add(i.timeout))
	if _, err := ctrlCall(i.ctrl, ctrlSetLocality, []byte{l}, 0); err != nil {
		return fmt.Errorf("set locality %d on swtpm in %s: %w", l, i.dir, err)
	}
	i.locality = l
	return nil
}

// batonWait bounds how long anyone waits for another holder to finish.
const batonWait = 30 * time.Second

// hold takes the baton, waiting at most d.
func (i *Instance) hold(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case i.baton <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("vTPM in %s busy: a client has held objects for %v", i.dir, d)
	}
}

func (i *Instance) release() { <-i.baton }

// Detach closes the manager's connections and leaves swtpm running, for a
// manager that is restarting.
func (i *Instance) Detach() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.closeLocked()
	i.proc.release()
}

func (i *Instance) closeLocked() {
	if !i.closed {
		i.data.Close()
		i.ctrl.Close()
		i.closed = true
	}
}

// kill ends swtpm at once and closes the connections; the state dir stays.
func (i *Instance) kill() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.closeLocked()
	i.proc.kill()
}

// Stop shuts swtpm down through its control channel (its state is saved),
// waits for it to exit, killing it if ctx ends first, and removes the sockets.
func (i *Instance) Stop(ctx context.Context) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	var errs []error
	if !i.closed {
		i.ctrl.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := ctrlCall(i.ctrl, ctrlShutdown, nil, 0); err != nil {
			errs = append(errs, err)
		}
		i.closeLocked()
	}
	if err := i.proc.wait(ctx); err != nil {
		i.proc.kill()
	}
	i.proc.release()
	for _, f := range []string{dataSock, ctrlSock, pidFile} {
		if err := os.Remove(sidecar(i.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop swtpm in %s: %w", i.dir, err)
	}
	return nil
}

// Destroy stops swtpm and deletes its state directory and log.
func (i *Instance) Destroy(ctx context.Context) error {
	err := i.Stop(ctx)
	os.Remove(sidecar(i.dir, logFile))
	if rmErr := os.RemoveAll(i.dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove state dir %s: %w", i.dir, rmErr))
	}
	return err
}
