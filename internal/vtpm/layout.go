package vtpm

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Layout of a manager directory (default /run/trustbox/vtpm; 0700, or 0711
// when each swtpm runs as its own uid):
//
//	ca/                software root key (0600) and certificate (unless CADir)
//	vtpm/<id>/         0700 (0711): record.json, eventlog, and (unless the
//	                   vTPM came from the pool) its TPM dir:
//	                     state.key (0600), state.{data,ctrl}.sock, state.pid,
//	                     state.log, state/ (swtpm's, 0700, owned by its uid)
//	pool/<token>/      TPM dirs of pre-provisioned vTPMs (EKs made, no owner yet)
//	attach/<id>/       0700 (0750 to its owner): tpm.sock (the adapter;
//	                   not for a kernel vTPM) and eventlog (0444); the
//	                   runtime bind-mounts this directory at /run/tpm
type layout struct{ dir string }

func (l layout) ca() string                 { return filepath.Join(l.dir, "ca") }
func (l layout) vtpms() string              { return filepath.Join(l.dir, "vtpm") }
func (l layout) vtpm(id string) string      { return filepath.Join(l.dir, "vtpm", id) }
func (l layout) pool() string               { return filepath.Join(l.dir, "pool") }
func (l layout) record(id string) string    { return filepath.Join(l.vtpm(id), "record.json") }
func (l layout) eventlog(id string) string  { return filepath.Join(l.vtpm(id), "eventlog") }
func (l layout) attach(id string) string    { return filepath.Join(l.dir, "attach", id) }
func (l layout) socket(id string) string    { return filepath.Join(l.attach(id), "tpm.sock") }
func (l layout) publicLog(id string) string { return filepath.Join(l.attach(id), "eventlog") }

// tpmState and tpmKey are swtpm's state dir and its key inside a TPM dir.
func tpmState(tdir string) string { return filepath.Join(tdir, "state") }
func tpmKey(tdir string) string   { return filepath.Join(tdir, "state.key") }

// validID is ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ by hand: the compiled
// regexp cost every process linking this package 0.4 ms at start-up.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if !validID(id) {
		return fmt.Errorf("invalid container id %q (want [A-Za-z0-9][A-Za-z0-9_.-]{0,127})", id)
	}
	return nil
}

// Paths inside the container (the runtime mounts attach/<id> at MountDir).
const (
	MountDir       = "/run/tpm"
	ContainerSock  = MountDir + "/tpm.sock"
	ContainerLog   = MountDir + "/eventlog"
	adapterCommand = "/usr/local/bin/tbtpm-adapter"
)

// Attachment is what the runtime needs to give a container its vTPM.
type Attachment struct {
	// Arch is ArchDaemon or ArchKernel ("" from an older manager: daemon).
	Arch string `json:"arch,omitempty"`
	// HostDir is bind-mounted read-only at MountDir; it holds the launch
	// event log and, in the daemon architecture, the adapter socket tpm.sock.
	HostDir string `json:"host_dir"`
	// HostSocket is the adapter socket on the host (daemon architecture).
	HostSocket string `json:"host_socket,omitempty"`
	// Env makes tpm2-tools, the tpm2 OpenSSL provider and tpm2-pkcs11 use
	// the vTPM unchanged: the cmd: TCTI and tbtpm-adapter (daemon), or the
	// device: TCTI on /dev/tpmrm0 (kernel).
	Env []string `json:"env"`
	// Kernel architecture only (R-TRUST-3): Device is the node to create
	// in the container (linux.devices: /dev/tpmrm0, the host tpmrmN's
	// major:minor), DeviceRule the one device-cgroup rule allowing it
	// (linux.resources.devices), HostDevice the host node (/dev/tpmrmN).
	Device     *specs.LinuxDevice       `json:"device,omitempty"`
	DeviceRule *specs.LinuxDeviceCgroup `json:"device_rule,omitempty"`
	HostDevice string                   `json:"host_device,omitempty"`
}

// attachmentOf is how a vTPM is given to its container.
func (m *Manager) attachmentOf(rec record) Attachment {
	if rec.Arch == ArchKernel && rec.Kernel != nil {
		return m.l.kernelAttachment(rec.ID, rec.Kernel)
	}
	return m.l.attachment(rec.ID)
}

func (l layout) attachment(id string) Attachment {
	return Attachment{
		Arch:       ArchDaemon,
		HostDir:    l.attach(id),
		HostSocket: l.socket(id),
		Env: []string{
			"TPM2TOOLS_TCTI=cmd:" + adapterCommand + " " + ContainerSock,
			"TPM2OPENSSL_TCTI=cmd:" + adapterCommand + " " + ContainerSock,
			"TPM2_PKCS11_TCTI=cmd:" + adapterCommand + " " + ContainerSock,
			"TRUSTBOX_TPM_SOCKET=" + ContainerSock,
			"TRUSTBOX_TPM_EVENTLOG=" + ContainerLog,
		},
	}
}
