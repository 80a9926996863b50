package inspect

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// TPM is what the container sees of its vTPM (R-TRUST-2, R-TRUST-4).
type TPM struct {
	Present       bool              `json:"present"`
	EventLogBytes int               `json:"eventLogBytes"`
	PCRs          map[string]string `json:"pcrs,omitempty"` // sha256 bank, launch PCRs 8-13
	Error         string            `json:"error,omitempty"`
}

// readTPM looks for the vTPM trustbox mounts at /run/tpm and reads the launch PCRs through it.
func readTPM() TPM {
	var t TPM
	if _, err := os.Stat("/run/tpm/tpm.sock"); err != nil {
		return t
	}
	t.Present = true
	if st, err := os.Stat("/run/tpm/eventlog"); err == nil {
		t.EventLogBytes = int(st.Size())
	}
	pcrs, err := pcrRead("/run/tpm/tpm.sock", 8, 13)
	if err != nil {
		t.Error = err.Error()
		return t
	}
	t.PCRs = pcrs
	return t
}

// pcrRead sends a raw TPM2_PCR_Read for PCRs lo..hi (< 16) of the SHA-256 bank.
func pcrRead(sock string, lo, hi int) (map[string]string, error) {
	c, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var sel [3]byte
	for i := lo; i <= hi; i++ {
		sel[i/8] |= 1 << (i % 8)
	}
	cmd := []byte{0x80, 0x01, 0, 0, 0, 20, 0, 0, 0x01, 0x7E, 0, 0, 0, 1, 0x00, 0x0B, 3, sel[0], sel[1], sel[2]}
	if _, err := c.Write(cmd); err != nil {
		return nil, err
	}
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, err
	}
	size, rc := binary.BigEndian.Uint32(hdr[2:6]), binary.BigEndian.Uint32(hdr[6:10])
	if rc != 0 {
		return nil, fmt.Errorf("TPM2_PCR_Read: TPM error %#x", rc)
	}
	if size < 10 || size > 4096 {
		return nil, fmt.Errorf("TPM2_PCR_Read: bad response size %d", size)
	}
	body := make([]byte, size-10)
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	// pcrUpdateCounter(4) selection(4+2+1+3) count(4) then TPM2B digests.
	off := 4 + 10
	if len(body) < off+4 {
		return nil, fmt.Errorf("TPM2_PCR_Read: short response")
	}
	n := int(binary.BigEndian.Uint32(body[off:]))
	off += 4
	out := map[string]string{}
	for i, pcr := 0, lo; i < n && pcr <= hi; i, pcr = i+1, pcr+1 {
		if len(body) < off+2 {
			return nil, fmt.Errorf("TPM2_PCR_Read: short digest list")
		}
		l := int(binary.BigEndian.Uint16(body[off:]))
		if len(body) < off+2+l {
			return nil, fmt.Errorf("TPM2_PCR_Read: short digest")
		}
		out[strconv.Itoa(pcr)] = hex.EncodeToString(body[off+2 : off+2+l])
		off += 2 + l
	}
	return out, nil
}
