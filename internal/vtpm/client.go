package vtpm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/trustbox/trustbox/pkg/attestapi"
)

// Client calls the vTPM manager daemon; the runtime uses it at container
// create (Create) and delete (Destroy).
type Client struct {
	// Socket is the daemon's control socket; DefaultSocket when empty.
	Socket string
}

func (c Client) call(ctx context.Context, req request) (*response, error) {
	path := c.Socket
	if path == "" {
		path = DefaultSocket
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("vTPM manager at %s: %w (is trustbox vtpmd running?)", path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, fmt.Errorf("vTPM manager %s: %w", req.Op, err)
	}
	var rsp response
	if err := json.NewDecoder(conn).Decode(&rsp); err != nil {
		return nil, fmt.Errorf("vTPM manager %s: %w", req.Op, err)
	}
	if rsp.Error != "" {
		return nil, errors.New(rsp.Error)
	}
	return &rsp, nil
}

// Create gives container id a measured vTPM and returns how to attach it.
func (c Client) Create(ctx context.Context, id string, req CreateRequest) (Attachment, error) {
	rsp, err := c.call(ctx, request{Op: "create", ID: id, Create: &req})
	if err != nil || rsp.Attachment == nil {
		return Attachment{}, errors.Join(err, errIf(rsp != nil && rsp.Attachment == nil, "create: empty answer"))
	}
	return *rsp.Attachment, nil
}

// Attach serves container id's existing vTPM afresh (see Manager.Attach)
// and returns how to give it to the container.
func (c Client) Attach(ctx context.Context, id string, req AttachRequest) (Attachment, error) {
	rsp, err := c.call(ctx, request{Op: "attach", ID: id, Attach: &req})
	if err != nil || rsp.Attachment == nil {
		return Attachment{}, errors.Join(err, errIf(rsp != nil && rsp.Attachment == nil, "attach: empty answer"))
	}
	return *rsp.Attachment, nil
}

// Detach stops serving container id's vTPM and keeps it (see Manager.Detach).
func (c Client) Detach(ctx context.Context, id string) error {
	_, err := c.call(ctx, request{Op: "detach", ID: id})
	return err
}

// Destroy removes container id's vTPM.
func (c Client) Destroy(ctx context.Context, id string) error {
	_, err := c.call(ctx, request{Op: "destroy", ID: id})
	return err
}

// List describes every vTPM.
func (c Client) List(ctx context.Context) ([]Info, error) {
	rsp, err := c.call(ctx, request{Op: "list"})
	if err != nil {
		return nil, err
	}
	return rsp.List, nil
}

// Show describes container id's vTPM.
func (c Client) Show(ctx context.Context, id string) (Info, error) {
	rsp, err := c.call(ctx, request{Op: "show", ID: id})
	if err != nil || rsp.Info == nil {
		return Info{}, errors.Join(err, errIf(rsp != nil && rsp.Info == nil, "show: empty answer"))
	}
	return *rsp.Info, nil
}

// Attest returns evidence for container id bound to nonce.
func (c Client) Attest(ctx context.Context, id string, nonce []byte) (*attestapi.Evidence, error) {
	rsp, err := c.call(ctx, request{Op: "attest", ID: id, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return attestapi.DecodeEvidence(rsp.Evidence)
}

// EventLog returns container id's launch event log.
func (c Client) EventLog(ctx context.Context, id string) ([]byte, error) {
	rsp, err := c.call(ctx, request{Op: "eventlog", ID: id})
	if err != nil {
		return nil, err
	}
	return rsp.EventLog, nil
}

// EKChain returns container id's EK certificates and the root, DER.
func (c Client) EKChain(ctx context.Context, id string) ([][]byte, error) {
	rsp, err := c.call(ctx, request{Op: "ekchain", ID: id})
	if err != nil {
		return nil, err
	}
	return rsp.Chain, nil
}

func errIf(cond bool, msg string) error {
	if cond {
		return errors.New(msg)
	}
	return nil
}
