package cli

import (
	"flag"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/trustbox/trustbox/internal/seccomp"
	"github.com/trustbox/trustbox/internal/spec"
)

func init() {
	register(command{name: "features", usage: "(prints the OCI features document)", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		return func(args []string) error { return printJSON(g, featuresDoc()) }
	}})
}

func featuresDoc() features.Features {
	t := true
	var caps, mounts []string
	for c := range spec.Capabilities {
		caps = append(caps, c)
	}
	sort.Strings(caps)
	mounts = []string{"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand",
		"noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid",
		"private", "rbind", "relatime", "ro", "rprivate", "rro", "rshared", "rslave", "runbindable", "rw",
		"shared", "slave", "strictatime", "suid", "sync", "unbindable"}
	ns := []string{string(specs.CgroupNamespace), string(specs.IPCNamespace), string(specs.MountNamespace),
		string(specs.NetworkNamespace), string(specs.PIDNamespace), string(specs.TimeNamespace),
		string(specs.UserNamespace), string(specs.UTSNamespace)}
	modes, flags := spec.MemoryPolicyNames()
	return features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  mounts,
		Linux: &features.Linux{
			Namespaces:   ns,
			Capabilities: caps,
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: new(bool)},
			Seccomp:      seccompFeatures(),
			// Labels are applied where the host runs the LSM (refused elsewhere).
			Apparmor:        &features.Apparmor{Enabled: &t},
			Selinux:         &features.Selinux{Enabled: &t},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &t}},
			MemoryPolicy:    &features.MemoryPolicy{Modes: modes, Flags: flags},
			IntelRdt:        &features.IntelRdt{Enabled: new(bool)},
			NetDevices:      &features.NetDevices{Enabled: new(bool)},
		},
		Annotations: map[string]string{"io.github.trustbox.version": Version},
	}
}

// seccompFeatures describes the seccomp compiler to engines (containerd and
// Podman read supportedFlags before asking for a flag).
func seccompFeatures() *features.Seccomp {
	t := true
	actions, operators, archs, known, supported := seccomp.Features()
	return &features.Seccomp{Enabled: &t, Actions: actions, Operators: operators, Archs: archs,
		KnownFlags: known, SupportedFlags: supported}
}
