package bundlecheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-LSM-g, R-LSM-f, R-LSM-b, R-OPS-5: devices, limits, rootfs,
// labels and image provenance.
func init() {
	lazy(func() {
		register(
			check{rule("BUNDLE-DEVICES", "resources", "no host device is opened up to the container",
				"Access to every device, /dev/mem, /dev/kmem, /dev/port or raw block devices bypasses all other isolation.",
				`keep linux.resources.devices as [{"allow": false, "access": "rwm"}] plus the standard character devices; drop the listed devices`, "R-LSM-g", "R-LSM-a"), checkDevices},
			check{rule("BUNDLE-RESOURCES", "resources", "memory, process and CPU limits are set",
				"Without limits one container can starve the host and its neighbours (a fork bomb, a memory leak).",
				"set linux.resources.memory.limit, linux.resources.pids.limit and linux.resources.cpu", "R-LSM-f"), checkLimits},
			check{rule("BUNDLE-ROOTFS-READONLY", "resources", "the root filesystem is read-only",
				"A read-only rootfs stops an intruder from persisting or altering the image's binaries.",
				`set "root": {"readonly": true} and mount writable volumes only where needed`, "R-LSM-g", "R-CONF-1"), checkRootRO},
			check{rule("BUNDLE-ROOTFS", "resources", "the bundle's rootfs exists and stays inside the bundle",
				"A missing rootfs fails at create; one pointing outside the bundle may be a host directory.",
				"point root.path at the bundle's rootfs directory", "R-ISO-3", "R-LSM-g"), checkRootfs},
			check{rule("BUNDLE-LSM-LABEL", "resources", "an AppArmor profile or SELinux label is given",
				"On hosts with a MAC LSM the label decides which files the container may touch (R-LSM-b).",
				"set process.apparmorProfile or process.selinuxLabel (trustbox applies its default where the host has an LSM)", "R-LSM-b", "R-LSM-h"), checkLabel},
			check{rule("BUNDLE-IMAGE-PROVENANCE", "resources", "the bundle names the image digest it was made from",
				"An image digest annotation lets the runtime and auditors tie the rootfs to a verified, signed image (R-OPS-5).",
				"have the engine set org.opencontainers.image.base.digest (or io.containerd.image.digest); verify images before unpacking", "R-OPS-5"), checkProvenance},
		)
	})
}

func checkDevices(s *subject) result {
	if s.spec.Linux == nil {
		return result{level: findings.Warn, seen: "no linux section: no device cgroup rules", field: "linux"}
	}
	var bad []string
	level := findings.Pass
	if r := s.spec.Linux.Resources; r != nil {
		for _, d := range r.Devices {
			if d.Allow && (d.Type == "" || d.Type == "a") && d.Major == nil && d.Minor == nil {
				bad, level = append(bad, "all devices allowed ("+d.Access+")"), findings.Fail
			}
		}
	}
	for _, d := range s.spec.Linux.Devices {
		switch {
		case d.Path == "/dev/mem" || d.Path == "/dev/kmem" || d.Path == "/dev/port":
			bad, level = append(bad, d.Path), findings.Fail
		case d.Type == "b":
			bad = append(bad, d.Path+" (block device)")
			if level == findings.Pass {
				level = findings.Warn
			}
		}
	}
	if len(bad) > 0 {
		return result{level: level, seen: strings.Join(bad, ", "), field: "linux.devices"}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d extra devices, none sensitive; no allow-all rule", len(s.spec.Linux.Devices)), field: "linux.resources.devices"}
}

func checkLimits(s *subject) result {
	var miss []string
	var r = s.spec.Linux
	if r == nil || r.Resources == nil {
		return result{level: findings.Warn, seen: "no linux.resources: no limits", field: "linux.resources"}
	}
	res := r.Resources
	if res.Memory == nil || res.Memory.Limit == nil || *res.Memory.Limit <= 0 {
		miss = append(miss, "memory.limit")
	}
	if res.Pids == nil || res.Pids.Limit == nil || *res.Pids.Limit <= 0 {
		miss = append(miss, "pids.limit")
	}
	if res.CPU == nil || (res.CPU.Quota == nil && res.CPU.Shares == nil && res.CPU.Cpus == "") {
		miss = append(miss, "cpu")
	}
	if len(miss) > 0 {
		return result{level: findings.Warn, seen: "no limit on " + strings.Join(miss, ", "), field: "linux.resources"}
	}
	return result{level: findings.Pass, seen: "memory, pids and cpu limited", field: "linux.resources"}
}

func checkRootRO(s *subject) result {
	if s.spec.Root == nil {
		return result{level: findings.Warn, seen: "no root section", field: "root"}
	}
	if s.spec.Root.Readonly {
		return result{level: findings.Pass, seen: "root.readonly: true", field: "root.readonly"}
	}
	return result{level: findings.Warn, seen: "root.readonly is false", field: "root.readonly"}
}

func checkRootfs(s *subject) result {
	if s.bundle == "" {
		return result{level: findings.NotApplicable, seen: "a lone config: no bundle to look in", field: "root.path"}
	}
	if s.spec.Root == nil || s.spec.Root.Path == "" {
		return result{level: findings.Fail, seen: "no root.path", field: "root.path"}
	}
	p := s.spec.Root.Path
	if !filepath.IsAbs(p) {
		p = filepath.Join(s.bundle, p)
	}
	relp, err := filepath.Rel(s.bundle, p)
	if err != nil || relp == ".." || strings.HasPrefix(relp, "../") {
		return result{level: findings.Warn, seen: "root.path " + s.spec.Root.Path + " is outside the bundle", field: "root.path"}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return result{level: findings.Fail, seen: "rootfs: " + err.Error(), field: "root.path"}
	}
	if !fi.IsDir() {
		return result{level: findings.Fail, seen: "rootfs " + s.spec.Root.Path + " is not a directory", field: "root.path"}
	}
	return result{level: findings.Pass, seen: "rootfs " + s.spec.Root.Path + " is a directory inside the bundle", field: "root.path"}
}

func checkLabel(s *subject) result {
	p := s.spec.Process
	switch {
	case p == nil:
		return result{level: findings.NotApplicable, seen: "no process", field: "process"}
	case p.ApparmorProfile != "":
		return result{level: findings.Pass, seen: "apparmorProfile " + p.ApparmorProfile, field: "process.apparmorProfile"}
	case p.SelinuxLabel != "":
		return result{level: findings.Pass, seen: "selinuxLabel " + p.SelinuxLabel, field: "process.selinuxLabel"}
	}
	return result{level: findings.Info, seen: "no apparmorProfile or selinuxLabel: the host's default applies", field: "process"}
}

var digestKeys = []string{"org.opencontainers.image.base.digest", "io.containerd.image.digest", "org.opencontainers.image.digest", "io.kubernetes.cri.image-digest"}

func checkProvenance(s *subject) result {
	for _, k := range digestKeys {
		if v := s.spec.Annotations[k]; strings.HasPrefix(v, "sha256:") || strings.HasPrefix(v, "sha512:") {
			return result{level: findings.Pass, seen: k + "=" + v, field: "annotations"}
		}
	}
	return result{level: findings.Info, seen: "no image digest annotation: the rootfs cannot be tied to a verified image", field: "annotations"}
}
