package tpmprov

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// nvChunk stays below every TPM's MAX_NV_BUFFER_SIZE.
const nvChunk = 768

// writeCertNV defines a platform-created NV index for an EK certificate
// (TCG EK Credential Profile attributes), writes der and write-locks it for
// good (WRITEDEFINE): no tenant, not even the owner, can overwrite it.
func writeCertNV(t transport.TPM, index tpm2.TPMHandle, der []byte) error {
	platform := tpm2.AuthHandle{Handle: tpm2.TPMRHPlatform, Auth: tpm2.PasswordAuth(nil)}
	pub := tpm2.TPMSNVPublic{
		NVIndex: index,
		NameAlg: tpm2.TPMAlgSHA256,
		Attributes: tpm2.TPMANV{
			PPWrite: true, WriteDefine: true, PPRead: true, OwnerRead: true,
			AuthRead: true, NoDA: true, PlatformCreate: true, NT: tpm2.TPMNTOrdinary,
		},
		DataSize: uint16(len(der)),
	}
	if _, err := (tpm2.NVDefineSpace{AuthHandle: platform, PublicInfo: tpm2.New2B(pub)}).Execute(t); err != nil {
		return fmt.Errorf("define NV index 0x%08x: %w", uint32(index), err)
	}
	rp, err := tpm2.NVReadPublic{NVIndex: index}.Execute(t)
	if err != nil {
		return fmt.Errorf("NV index 0x%08x: %w", uint32(index), err)
	}
	nv := tpm2.NamedHandle{Handle: index, Name: rp.NVName}
	for off := 0; off < len(der); off += nvChunk {
		end := min(off+nvChunk, len(der))
		_, err := tpm2.NVWrite{AuthHandle: platform, NVIndex: nv,
			Data: tpm2.TPM2BMaxNVBuffer{Buffer: der[off:end]}, Offset: uint16(off)}.Execute(t)
		if err != nil {
			return fmt.Errorf("write NV index 0x%08x at %d: %w", uint32(index), off, err)
		}
	}
	if _, err := (tpm2.NVWriteLock{AuthHandle: platform, NVIndex: nv}).Execute(t); err != nil {
		return fmt.Errorf("write-lock NV index 0x%08x: %w", uint32(index), err)
	}
	return nil
}

// readCertNV reads a certificate back from an NV index.
func readCertNV(t transport.TPM, index tpm2.TPMHandle) ([]byte, error) {
	rp, err := tpm2.NVReadPublic{NVIndex: index}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("NV index 0x%08x: %w", uint32(index), err)
	}
	pub, err := rp.NVPublic.Contents()
	if err != nil {
		return nil, err
	}
	nv := tpm2.NamedHandle{Handle: index, Name: rp.NVName}
	auth := tpm2.AuthHandle{Handle: index, Name: rp.NVName, Auth: tpm2.PasswordAuth(nil)}
	var out []byte
	for off := 0; off < int(pub.DataSize); off += nvChunk {
		n := min(nvChunk, int(pub.DataSize)-off)
		r, err := tpm2.NVRead{AuthHandle: auth, NVIndex: nv, Size: uint16(n), Offset: uint16(off)}.Execute(t)
		if err != nil {
			return nil, fmt.Errorf("read NV index 0x%08x at %d: %w", uint32(index), off, err)
		}
		out = append(out, r.Data.Buffer...)
	}
	return out, nil
}
