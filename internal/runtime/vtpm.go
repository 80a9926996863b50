package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/cgroups"
	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/internal/pathrs"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

// VtpmAnnotation asks for a vTPM in config.json: "true" uses the manager at
// vtpm.DefaultSocket, "unix:PATH" another one (R-TRUST-2);
// VtpmArchAnnotation chooses "daemon" (the adapter socket, R-TRUST-4, the
// default) or "kernel" (a vtpm_proxy device, R-TRUST-3).
const (
	VtpmAnnotation     = "org.trustbox.vtpm"
	VtpmArchAnnotation = "org.trustbox.vtpm.arch"
)

// vtpmSocket returns the manager socket a container asked for, if any.
func vtpmSocket(o *CreateOptions, s *specs.Spec) string {
	v := o.Vtpm
	if v == "" {
		v = s.Annotations[VtpmAnnotation]
	}
	switch {
	case v == "" || v == "false":
		return ""
	case v == "true":
		return vtpm.DefaultSocket
	}
	return strings.TrimPrefix(v, "unix:")
}

// attachVtpm has the manager create, provision and measure the container's
// vTPM before init runs anything (R-TRUST-1, R-TRUST-5), then gives the
// container its adapter directory read-only at /run/tpm and the TSS
// environment (R-TRUST-4).
func (r *Runtime) attachVtpm(sock string, st *State, filter []config.SockFilter, cg *cgroups.Manager) (*vtpm.Attachment, error) {
	s := st.Spec
	in, err := r.measureInput(st, filter)
	if err != nil {
		return nil, fmt.Errorf("vTPM measurement: %w", err)
	}
	var owner *vtpm.Owner
	if u := s.Process.User; st.UserNS || u.UID != 0 {
		owner = &vtpm.Owner{UID: uint32(hostID(s.Linux.UIDMappings, u.UID)), GID: uint32(hostID(s.Linux.GIDMappings, u.GID))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	att, err := vtpm.Client{Socket: sock}.Create(ctx, st.ID, vtpm.CreateRequest{Measure: in, Owner: owner,
		ContainerStateDir: r.dir(st.ID), Arch: s.Annotations[VtpmArchAnnotation]})
	if err != nil {
		return nil, fmt.Errorf("vTPM from the manager at %s (is `trustbox vtpmd` running?): %w", sock, err)
	}
	if rule := wireVtpm(s, &att, st.UserNS); rule != nil {
		if err := cg.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{*rule}}); err != nil {
			return nil, fmt.Errorf("vTPM device rule: %w", err)
		}
	}
	return &att, nil
}

// wireVtpm gives the container what the attachment names: the event log
// (and adapter socket) directory read-only at /run/tpm, the TSS environment,
// and for the kernel architecture the device node, and returns the one
// device-cgroup rule to add for it (nil for the daemon architecture). In a
// user namespace the host's tpmrmN is bind-mounted at /dev/tpmrm0: a
// linux.devices entry would make init bind the host's own /dev/tpmrm0.
func wireVtpm(s *specs.Spec, att *vtpm.Attachment, userns bool) *specs.LinuxDeviceCgroup {
	s.Mounts = append(s.Mounts, specs.Mount{Destination: vtpm.MountDir, Source: att.HostDir, Type: "bind",
		Options: []string{"bind", "ro", "nosuid", "nodev", "noexec"}})
	s.Process.Env = append(s.Process.Env, att.Env...)
	if att.Device == nil || att.DeviceRule == nil {
		return nil
	}
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, *att.DeviceRule)
	if userns {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: att.Device.Path, Source: att.HostDevice, Type: "bind",
			Options: []string{"bind", "rw", "nosuid", "noexec"}})
	} else {
		d := *att.Device
		uid, gid := s.Process.User.UID, s.Process.User.GID
		d.UID, d.GID = &uid, &gid
		s.Linux.Devices = append(s.Linux.Devices, d)
	}
	return att.DeviceRule
}

func (r *Runtime) measureInput(st *State, filter []config.SockFilter) (attestapi.MeasureInput, error) {
	s := st.Spec
	var in attestapi.MeasureInput
	cfg, err := json.Marshal(s)
	if err != nil {
		return in, err
	}
	if in.Runtime, err = measure.SelfRuntime(r.Version, nil); err != nil {
		return in, err
	}
	in.OCIConfig = cfg
	tree, err := measure.TreeSHA256(st.Rootfs)
	if err != nil {
		return in, err
	}
	in.Image.RootfsDigest = "sha256:" + tree
	in.Image.ManifestDigest = s.Annotations["org.opencontainers.image.digest"]
	fb, _ := json.Marshal(filter)
	in.Policy = attestapi.SecurityPolicy{Profile: "trustbox-baseline", SeccompSHA256: measure.SHA256Hex(fb)}
	if c := s.Process.Capabilities; c != nil {
		in.Policy.Capabilities = c.Bounding
	}
	for _, ns := range s.Linux.Namespaces {
		in.Policy.Namespaces = append(in.Policy.Namespaces, string(ns.Type))
	}
	if p := s.Process; p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		in.Policy.LSM = map[string]string{"apparmor": p.ApparmorProfile, "selinux": p.SelinuxLabel}
	}
	in.Entrypoint = attestapi.Entrypoint{Argv: s.Process.Args, Env: s.Process.Env}
	in.Entrypoint.ExecutableSHA256, err = executableDigest(st.Rootfs, s.Process.Args[0], s.Process.Env)
	return in, err
}

// executableDigest hashes the entrypoint as init will find it, resolved
// inside the rootfs (never through a host path).
func executableDigest(rootfs, arg0 string, env []string) (string, error) {
	root, err := os.Open(rootfs)
	if err != nil {
		return "", err
	}
	defer root.Close()
	cands := []string{arg0}
	if !strings.Contains(arg0, "/") {
		cands = nil
		dirs := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, "PATH="); ok {
				dirs = v
			}
		}
		for _, d := range filepath.SplitList(dirs) {
			cands = append(cands, path.Join(d, arg0))
		}
	}
	for _, c := range cands {
		f, err := pathrs.Open(root, c, unix.O_RDONLY)
		if err != nil {
			continue
		}
		digest, err := measure.FileSHA256(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
		f.Close()
		if err == nil {
			return digest, nil
		}
	}
	return "", fmt.Errorf("entrypoint %q not found in the rootfs", arg0)
}

// destroyVtpm has the manager destroy the container's vTPM (its state is wiped, R-CONF-6).
func (r *Runtime) destroyVtpm(st *State) error {
	if st.VtpmSocket == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := (vtpm.Client{Socket: st.VtpmSocket}).Destroy(ctx, st.ID); err != nil {
		return fmt.Errorf("destroy vTPM of %s at %s: %w", st.ID, st.VtpmSocket, err)
	}
	return nil
}
