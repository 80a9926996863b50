package vtpm

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
)

// swtpm control-channel commands (swtpm's tpm_ioctl.h, big endian on the wire).
const (
	ctrlShutdown    = 3
	ctrlSetLocality = 5
)

// ctrlCall sends one control command with its payload and reads the 4-byte
// result code plus want further bytes. The control channel can reset PCRs and
// export state, so only the manager ever holds it (R-TRUST-7).
func ctrlCall(c net.Conn, cmd uint32, payload []byte, want int) ([]byte, error) {
	msg := binary.BigEndian.AppendUint32(nil, cmd)
	msg = append(msg, payload...)
	if _, err := c.Write(msg); err != nil {
		return nil, fmt.Errorf("swtpm control command %d: %w", cmd, err)
	}
	rsp := make([]byte, 4+want)
	if _, err := io.ReadFull(c, rsp); err != nil {
		return nil, fmt.Errorf("swtpm control command %d: read result: %w", cmd, err)
	}
	if rc := binary.BigEndian.Uint32(rsp); rc != 0 {
		return nil, fmt.Errorf("swtpm control command %d: TPM result 0x%x", cmd, rc)
	}
	return rsp[4:], nil
}
