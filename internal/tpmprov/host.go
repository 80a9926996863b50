package tpmprov

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// HostTPMDevice is the kernel resource-managed TPM device.
const HostTPMDevice = "/dev/tpmrm0"

// ErrNoHostTPM means the host has no TPM to anchor vTPMs in.
var ErrNoHostTPM = errors.New("no host TPM")

// OpenHostTPM opens the host TPM named by spec: "auto" (HostTPMDevice if it
// exists, else ErrNoHostTPM), a device path, or "unix:PATH" for a TPM
// simulator's data socket (a swtpm standing in for the host TPM in tests).
func OpenHostTPM(spec string) (transport.TPMCloser, error) {
	switch {
	case spec == "auto":
		if _, err := os.Stat(HostTPMDevice); err != nil {
			return nil, ErrNoHostTPM
		}
		return OpenHostTPM(HostTPMDevice)
	case strings.HasPrefix(spec, "unix:"):
		c, err := net.Dial("unix", strings.TrimPrefix(spec, "unix:"))
		if err != nil {
			return nil, fmt.Errorf("host TPM %s: %w", spec, err)
		}
		return transport.FromReadWriteCloser(c), nil
	default:
		t, err := linuxtpm.Open(spec)
		if err != nil {
			return nil, fmt.Errorf("host TPM %s: %w", spec, err)
		}
		return t, nil
	}
}

// HostEKPublic returns the host TPM's RSA EK public area: the persisted one
// at 0x81010001 if present, else the TCG default template's primary.
func HostEKPublic(t transport.TPM) (*tpm2.TPMTPublic, error) {
	if rp, err := (tpm2.ReadPublic{ObjectHandle: RSAEKHandle}).Execute(t); err == nil {
		return rp.OutPublic.Contents()
	}
	cp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(tpm2.RSAEKTemplate)}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("host EK: %w", err)
	}
	defer tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(t)
	return cp.OutPublic.Contents()
}
