package vtpm

import (
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ManagerCapabilities are all vtpmd needs: start each swtpm as its own uid
// (SETUID, SETGID), hand it its state dir (CHOWN, FOWNER), reach and remove
// that uid-owned dir (DAC_OVERRIDE) and stop it (KILL).
var ManagerCapabilities = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID"}

// ManagerContainer turns a base OCI spec (trustbox's secure default) into
// the bundle that runs vtpmd in its own container (R-TRUST-4). trustbox is
// the host path of the trustbox binary; the rootfs needs only empty
// directories and the usr-merge links (bin, sbin, lib, lib64 -> usr/...).
//
// Its shape, and why:
//   - no user namespace: SO_PEERCRED must see callers' real uids (R-OPS-1)
//     and swtpm's per-vTPM uids must be real host uids;
//   - no PID namespace: swtpm processes must outlive a vtpmd restart, which
//     the death of a PID namespace's init would prevent;
//   - its own network, IPC, UTS, mount and cgroup namespaces, no network;
//   - the host's /usr and /etc read-only (swtpm and its libraries), the
//     trustbox binary read-only, and read-write only the vTPM dir, the CA
//     dir and the socket's dir, at the same paths as on the host, because
//     the runtime bind-mounts attach/<id> from those host paths;
//   - /dev/tpmrm0 when the host has a TPM, and only that device.
//
// tpmrm is the host's /dev/tpmrm0 as {major, minor}, nil without a host TPM.
func ManagerContainer(s *specs.Spec, o DaemonOptions, trustbox string, tpmrm *[2]uint32) {
	s.Process.Terminal = false
	// --root: the audit log goes to the socket's dir, the runtime root by default.
	s.Process.Args = []string{"/trustbox", "--root", filepath.Dir(o.Socket), "vtpmd", "--dir", o.Dir, "--ca-dir", o.CADir, "--socket", o.Socket,
		"--host-tpm", map[bool]string{true: "/dev/tpmrm0", false: "none"}[tpmrm != nil]}
	caps := slices.Clone(ManagerCapabilities)
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	s.Process.NoNewPrivileges = true
	s.Root = &specs.Root{Path: "rootfs", Readonly: true}
	s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
	s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
		return n.Type == specs.UserNamespace || n.Type == specs.PIDNamespace
	})
	ro := []string{"rbind", "ro", "nosuid", "nodev"}
	rw := []string{"rbind", "rw", "nosuid", "nodev", "noexec"}
	s.Mounts = append(s.Mounts,
		specs.Mount{Destination: "/usr", Type: "bind", Source: "/usr", Options: ro},
		specs.Mount{Destination: "/etc", Type: "bind", Source: "/etc", Options: ro},
		specs.Mount{Destination: "/trustbox", Type: "bind", Source: trustbox, Options: ro},
		specs.Mount{Destination: o.Dir, Type: "bind", Source: o.Dir, Options: rw},
		specs.Mount{Destination: o.CADir, Type: "bind", Source: o.CADir, Options: rw},
		specs.Mount{Destination: filepath.Dir(o.Socket), Type: "bind", Source: filepath.Dir(o.Socket), Options: rw},
	)
	if tpmrm != nil {
		dev, rule := DeviceWiring(tpmrm[0], tpmrm[1])
		s.Linux.Devices = append(s.Linux.Devices, dev)
		if s.Linux.Resources == nil {
			s.Linux.Resources = &specs.LinuxResources{}
		}
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, rule)
	}
}
