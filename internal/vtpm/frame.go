package vtpm

import (
	"encoding/binary"
	"fmt"
	"io"
)

// MaxFrame bounds one TPM command or response; TPM 2.0 buffers are 4 KiB and
// swtpm allows larger ones, so 64 KiB is generous without letting a client
// make the manager allocate without limit.
const MaxFrame = 64 << 10

// headerSize is tag (2) + size (4) + command or response code (4).
const headerSize = 10

// ReadFrame reads one TPM command or response (header + body) from r.
func ReadFrame(r io.Reader) ([]byte, error) {
	hdr := make([]byte, headerSize)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(hdr[2:6])
	if size < headerSize || size > MaxFrame {
		return nil, fmt.Errorf("TPM frame size %d outside [%d, %d]", size, headerSize, MaxFrame)
	}
	buf := make([]byte, size)
	copy(buf, hdr)
	if _, err := io.ReadFull(r, buf[headerSize:]); err != nil {
		return nil, fmt.Errorf("TPM frame of %d bytes: %w", size, err)
	}
	return buf, nil
}

// ErrorResponse builds a bare TPM response carrying only the result code rc.
func ErrorResponse(rc uint32) []byte {
	b := make([]byte, headerSize)
	binary.BigEndian.PutUint16(b[0:2], 0x8001) // TPM_ST_NO_SESSIONS
	binary.BigEndian.PutUint32(b[2:6], headerSize)
	binary.BigEndian.PutUint32(b[6:10], rc)
	return b
}
