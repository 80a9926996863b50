package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-HOST-1 and R-LSM-a for the container stack itself: runtime
// binaries, state directories and daemon sockets.
func init() {
	lazy(func() {
		register(
			check{hostRule("STACK-RUNTIME-BINARIES", "container-stack", "container runtime binaries are root-owned and not writable by others",
				"Whoever can replace a runtime binary runs code as root in every container start.",
				"chown root:root and chmod 0755 the listed binaries", "R-HOST-1", "R-TRUST-1"), checkBinaries},
			check{hostRule("STACK-STATE-DIRS", "container-stack", "runtime state directories are root-only",
				"State directories hold container configs, init pipes and sockets; others must not list or change them.",
				"chmod 0700 (or 0711) the listed directories, owned by root", "R-HOST-1", "R-LSM-a"), checkStateDirs},
			check{hostRule("STACK-SOCKETS", "container-stack", "container daemon sockets are reachable by root only",
				"Access to the docker, containerd or podman socket is root on the host.",
				"chmod 0600 the socket, root:root (0660 only for a group of administrators); do not add users to the docker group; prefer rootless", "R-HOST-1", "R-LSM-a", "R-OPS-1"), checkSockets},
		)
	})
}

var runtimeBinaries = []string{"/usr/local/bin/trustbox", "/usr/bin/trustbox", "/usr/sbin/runc", "/usr/bin/runc", "/usr/local/bin/runc",
	"/usr/bin/crun", "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", "/usr/bin/dockerd", "/usr/bin/podman", "/usr/bin/conmon"}

var stateDirs = []string{"/run/trustbox", "/run/runc", "/run/crun", "/run/containerd", "/var/lib/containerd", "/var/lib/docker", "/var/lib/trustbox"}

var daemonSockets = []string{"/run/docker.sock", "/var/run/docker.sock", "/run/containerd/containerd.sock", "/run/podman/podman.sock", "/run/crio/crio.sock"}

// modeProblems stats each existing path (following symlinks) and returns the
// ones whose permissions match bad, and how many existed.
func modeProblems(s *source, paths []string, bad func(perm uint32, uid int) string) (probs []string, found int, errRes *result) {
	for _, p := range paths {
		fi, err := s.stat(p)
		if missing(err) {
			continue
		}
		if err != nil {
			r := failed(p, err)
			return nil, 0, &r
		}
		found++
		uid, _ := owner(fi)
		if why := bad(uint32(fi.Mode().Perm()), uid); why != "" {
			probs = append(probs, fmt.Sprintf("%s (%s, uid %d: %s)", p, fi.Mode().Perm(), uid, why))
		}
	}
	return probs, found, nil
}

func stackResult(probs []string, found int, what string, lvl findings.Level, where string) result {
	switch {
	case len(probs) > 0:
		return result{level: lvl, seen: strings.Join(probs, "; "), where: where}
	case found == 0:
		return result{level: findings.NotApplicable, seen: "none of the known " + what + " exist", where: where}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d %s, all root-only", found, what), where: where}
}

func checkBinaries(s *source) result {
	probs, found, e := modeProblems(s, runtimeBinaries, func(perm uint32, uid int) string {
		switch {
		case uid != 0:
			return "not owned by root"
		case perm&0o022 != 0:
			return "writable by group or others"
		}
		return ""
	})
	if e != nil {
		return *e
	}
	return stackResult(probs, found, "runtime binaries", findings.Fail, runtimeBinaries[0])
}

func checkStateDirs(s *source) result {
	probs, found, e := modeProblems(s, stateDirs, func(perm uint32, uid int) string {
		switch {
		case uid != 0:
			return "not owned by root"
		case perm&0o022 != 0:
			return "writable by group or others"
		case perm&0o044 != 0:
			return "listable by group or others"
		}
		return ""
	})
	if e != nil {
		return *e
	}
	lvl := findings.Warn
	for _, p := range probs {
		if strings.Contains(p, "writable") || strings.Contains(p, "not owned") {
			lvl = findings.Fail
		}
	}
	return stackResult(probs, found, "state directories", lvl, stateDirs[0])
}

func checkSockets(s *source) result {
	probs, found, e := modeProblems(s, daemonSockets, func(perm uint32, uid int) string {
		switch {
		case perm&0o002 != 0:
			return "world-writable: any user is root"
		case perm&0o020 != 0:
			return "group-writable: the group's members are root"
		}
		return ""
	})
	if e != nil {
		return *e
	}
	lvl := findings.Warn
	for i, p := range probs {
		if strings.Contains(p, "world") {
			lvl = findings.Fail
		}
		path, _, _ := strings.Cut(p, " ")
		if fi, err := s.stat(path); err == nil {
			_, gid := owner(fi)
			probs[i] += "; group " + s.groupName(gid)
		}
	}
	return stackResult(probs, found, "daemon sockets", lvl, daemonSockets[0])
}

// groupName names a GID with its members from the host's /etc/group.
func (s *source) groupName(gid int) string {
	t, err := s.text("/etc/group")
	if err != nil {
		return fmt.Sprint(gid)
	}
	for _, line := range strings.Split(t, "\n") {
		f := strings.Split(line, ":")
		if len(f) == 4 && f[2] == fmt.Sprint(gid) {
			if f[3] == "" {
				return f[0] + " (no members)"
			}
			return f[0] + " (members: " + f[3] + ")"
		}
	}
	return fmt.Sprint(gid)
}
