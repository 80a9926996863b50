package inspect

import (
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"testing"
)

// pcrRead speaks TPM2_PCR_Read exactly: the command bytes are checked and a
// canned response is decoded into per-PCR digests.
func TestPCRReadWire(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "tpm.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cmd := make([]byte, 20)
		io.ReadFull(c, cmd)
		if binary.BigEndian.Uint32(cmd[6:]) != 0x17E || cmd[18] != 0x3F {
			c.Write([]byte{0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x01})
			return
		}
		body := []byte{0, 0, 0, 7, 0, 0, 0, 1, 0, 0x0B, 3, 0, 0x3F, 0}
		body = binary.BigEndian.AppendUint32(body, 6)
		for i := 0; i < 6; i++ {
			body = append(body, 0, 32)
			d := make([]byte, 32)
			d[0] = byte(8 + i)
			body = append(body, d...)
		}
		resp := []byte{0x80, 1}
		resp = binary.BigEndian.AppendUint32(resp, uint32(10+len(body)))
		resp = append(resp, 0, 0, 0, 0)
		c.Write(append(resp, body...))
	}()
	pcrs, err := pcrRead(sock, 8, 13)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcrs) != 6 || pcrs["8"][:2] != "08" || pcrs["13"][:2] != "0d" {
		t.Fatalf("%v", pcrs)
	}
}
