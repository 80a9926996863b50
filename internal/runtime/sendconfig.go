package runtime

import (
	"fmt"
	"maps"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/linux"
	"github.com/trustbox/trustbox/internal/spec"
)

// sendConfig sends init its config with the mounts the runtime makes for
// it: an id-mapped mount of the rootfs when the container's root must see
// the image's root-owned files as its own (only host root can create it,
// and only after init's user namespace exists), the id-mapped binds mounts
// ask for, and the binds premadeBinds makes while init starts.
func (ip *initProc) sendConfig(sock *os.File, cfg *config.Init) error {
	var fds []int
	if ip.needIdmap() {
		mnt, err := idmappedRootfs(ip.st.Rootfs, ip.st.Pid)
		if err != nil {
			return err
		}
		defer mnt.Close()
		cfg.RootfsIdmapped = true
		fds = append(fds, int(mnt.Fd()))
	}
	for i, m := range cfg.Spec.Mounts {
		if len(m.UIDMappings) == 0 {
			continue
		}
		mnt, err := idmappedBind(m)
		if err != nil {
			return fmt.Errorf("mounts[%d]: %w", i, err)
		}
		defer mnt.Close()
		cfg.IdmappedMounts = append(cfg.IdmappedMounts, i)
		fds = append(fds, int(mnt.Fd()))
	}
	if len(fds) > maxPassedFds { // the deferred Closes release them
		return fmt.Errorf("%d id-mapped mounts: at most %d can be passed to init", len(fds), maxPassedFds)
	}
	premade, err := ip.premadeBinds(cfg, len(fds))
	defer closeAll(premade)
	if err != nil {
		return err
	}
	for _, f := range premade {
		fds = append(fds, int(f.Fd()))
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(sock.Fd()), config.Encode(cfg), oob, nil, 0); err != nil {
		return fmt.Errorf("send init config: %w", err)
	}
	return nil
}

// needIdmap: a new user namespace maps container root away from host root,
// yet the rootfs is owned by host root (an unprepared image).
func (ip *initProc) needIdmap() bool {
	if !ip.st.UserNS || ip.mnt != nil { // a joined mount namespace is used as it is
		return false
	}
	root, _, ok := rootOnHost(ip.st.Pid)
	if !ok || root == 0 {
		return false
	}
	var st unix.Stat_t
	return unix.Stat(ip.st.Rootfs, &st) == nil && st.Uid == 0
}

func idmappedRootfs(rootfs string, pid int) (*os.File, error) {
	userns, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", pid))
	if err != nil {
		return nil, fmt.Errorf("id-mapped rootfs: %w", err)
	}
	defer userns.Close()
	mnt, err := linux.CloneTree(unix.AT_FDCWD, rootfs, false)
	if err != nil {
		return nil, fmt.Errorf("id-mapped rootfs: %w", err)
	}
	// A one-way slave, as init's own clones are: mounts over it (a hook's,
	// the container root's) must not travel back to the host.
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Propagation: unix.MS_SLAVE, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(int(mnt.Fd()), "", unix.AT_EMPTY_PATH, &attr); err != nil {
		mnt.Close()
		return nil, fmt.Errorf("id-mapped rootfs %s: %w (the filesystem may not support id-mapped mounts)", rootfs, err)
	}
	return mnt, nil
}

// maxPassedFds is how many mounts one config message may carry: the
// kernel's limit per SCM_RIGHTS message (SCM_MAX_FD), which init's buffer
// is sized for.
const maxPassedFds = 253

// premadeBinds makes, while init's Go runtime starts, the plain bind mounts
// init would otherwise clone on its critical path: the read-only binds of
// the container's own v1 cgroup directories under a "cgroup" mount, and, in
// a user namespace (no mknod), the binds of the host's device nodes. They
// are made as init would make them (open_tree of the same host path, the
// same attributes) and listed in cfg in the order sent, after the id-mapped
// mounts. One that cannot be made is left to init, whose error then names
// the mount.
func (ip *initProc) premadeBinds(cfg *config.Init, reserved int) ([]*os.File, error) {
	if ip.mnt != nil {
		return nil, nil // a joined mount namespace gets no mounts
	}
	var out []*os.File
	v1 := !(len(cfg.CgroupDirs) == 1 && cfg.CgroupDirs["unified"] != "")
	if v1 && slices.ContainsFunc(cfg.Spec.Mounts, func(m specs.Mount) bool { return m.Type == "cgroup" || m.Type == "cgroup2" }) {
		for _, key := range slices.Sorted(maps.Keys(cfg.CgroupDirs)) {
			if len(out)+reserved >= maxPassedFds {
				break // init binds the rest itself
			}
			tree, err := linux.CloneTree(unix.AT_FDCWD, cfg.CgroupDirs[key], false)
			if err != nil {
				continue
			}
			// A one-way slave, as init's own clones are (it makes / rslave
			// first): a mount over it must not travel back to the host.
			const ro = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
			if err := linux.SetAttr(tree, ro, 0, unix.MS_SLAVE, false); err != nil {
				tree.Close()
				return out, fmt.Errorf("cgroup %s: %w", key, err)
			}
			out = append(out, tree)
			cfg.PremadeCgroups = append(cfg.PremadeCgroups, key)
		}
	}
	if cfg.UserNS {
		for _, d := range spec.Devices(cfg.Spec) {
			if d.Type == "p" {
				continue // init makes a fresh fifo
			}
			if len(out)+reserved >= maxPassedFds {
				break // init binds the rest itself
			}
			tree, err := linux.DeviceTree(d.Path, d.Type, d.Major, d.Minor)
			if err != nil {
				return out, fmt.Errorf("linux.devices: %w", err)
			}
			out = append(out, tree)
			cfg.PremadeDevices = append(cfg.PremadeDevices, d.Path)
		}
	}
	return out, nil
}
