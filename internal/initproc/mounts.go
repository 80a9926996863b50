package initproc

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/linux"
	"github.com/trustbox/trustbox/internal/pathrs"
	"github.com/trustbox/trustbox/internal/spec"
)

// mountOne attaches one OCI mount, fd to fd: the destination is resolved
// inside the rootfs and the new mount is moved onto that exact inode.
func mountOne(c *config.Init, root *os.File, m specs.Mount) error {
	opts, err := spec.ParseMountOptions(m.Options)
	if err != nil {
		return err
	}
	if spec.IsBind(m) {
		return bindMount(root, m, opts)
	}
	if m.Type == "cgroup" || m.Type == "cgroup2" {
		return cgroupMount(c, root, m, opts)
	}
	if m.Type == "sysfs" && c.UserNS && !newNetNS(c.Spec) {
		// sysfs can only be mounted by the owner of the network namespace:
		// bind the host's read-only instead (R-LSM-g).
		m.Source, m.Options = "/sys", []string{"rbind", "rro", "nosuid", "noexec", "nodev"}
		opts, _ = spec.ParseMountOptions(m.Options)
		return bindMount(root, m, opts)
	}
	target, err := pathrs.MkdirAll(root, m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer target.Close()
	mnt, err := newFS(m, opts, c.Spec.Linux.MountLabel)
	if err != nil {
		return err
	}
	defer mnt.Close()
	if err := linux.MoveMount(mnt, target); err != nil {
		return err
	}
	return setPropagation(mnt, opts)
}

func newNetNS(s *specs.Spec) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path == "" {
			return true
		}
	}
	return false
}

func newFS(m specs.Mount, opts spec.MountOptions, mountLabel string) (*os.File, error) {
	kv, flags := fsParams(m, opts, mountLabel)
	src := m.Source
	if src == "" {
		src = m.Type
	}
	return linux.NewFS(m.Type, src, kv, flags, opts.Attr)
}

// fsParams splits a mount's data options into fsconfig(2) keys and flags
// and labels the new filesystem with linux.mountLabel (SELinux's context=,
// as runc does for every filesystem it creates but proc and sysfs, which
// carry the kernel's own labels). The runtime refused a mountLabel on a
// host without SELinux (R-LSM-b).
func fsParams(m specs.Mount, opts spec.MountOptions, mountLabel string) (map[string]string, []string) {
	kv := map[string]string{}
	var flags []string
	for _, d := range opts.Data {
		if k, v, ok := strings.Cut(d, "="); ok {
			kv[k] = v
		} else {
			flags = append(flags, d)
		}
	}
	if _, set := kv["context"]; mountLabel != "" && !set && m.Type != "proc" && m.Type != "sysfs" {
		kv["context"] = mountLabel
	}
	return kv, flags
}

func setPropagation(mnt *os.File, opts spec.MountOptions) error {
	if opts.Propagation == 0 {
		return nil
	}
	p := uint64(opts.Propagation &^ unix.MS_REC)
	return linux.SetAttr(mnt, 0, 0, p, opts.Propagation&unix.MS_REC != 0)
}

func bindMount(root *os.File, m specs.Mount, opts spec.MountOptions) error {
	st, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("bind source: %w", err)
	}
	target, err := mountTarget(root, m.Destination, st.IsDir())
	if err != nil {
		return err
	}
	defer target.Close()
	tree, err := linux.CloneTree(unix.AT_FDCWD, m.Source, opts.Recursive || m.Type == "rbind")
	if err != nil {
		return err
	}
	defer tree.Close()
	if opts.Attr != 0 || opts.ClearAttr&^unix.MOUNT_ATTR_RDONLY != 0 {
		clr := opts.ClearAttr &^ unix.MOUNT_ATTR_RDONLY // never try to clear a locked ro
		if err := linux.SetAttr(tree, opts.Attr, clr, 0, opts.RecursiveRO); err != nil {
			return err
		}
	}
	if err := linux.MoveMount(tree, target); err != nil {
		return err
	}
	return setPropagation(tree, opts)
}

// cgroupMount gives the container a read-only view of its own cgroups (R-LSM-g).
func cgroupMount(c *config.Init, root *os.File, m specs.Mount, opts spec.MountOptions) error {
	target, err := pathrs.MkdirAll(root, m.Destination, 0o755)
	if err != nil {
		return err
	}
	defer target.Close()
	if dir, ok := c.CgroupDirs["unified"]; ok && len(c.CgroupDirs) == 1 {
		ro := uint64(unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC)
		mnt, err := linux.NewFS("cgroup2", "cgroup2", nil, nil, ro)
		if errors.Is(err, unix.EPERM) {
			// A user namespace without a cgroup namespace of its own may not
			// mount the host's cgroup2 (found on a pure v2 kernel,
			// e2e/TestCgroupV2VM): show the container its own cgroup
			// directory instead, read-only, as the v1 path below does.
			return bindMount(root, specs.Mount{Source: dir, Destination: m.Destination, Type: "bind"}, spec.MountOptions{Attr: ro})
		}
		if err != nil {
			return err
		}
		defer mnt.Close()
		return linux.MoveMount(mnt, target)
	}
	// v1 or hybrid: a tmpfs holding a read-only bind of each of our own cgroup directories.
	tmp, err := linux.NewFS("tmpfs", "cgroup", map[string]string{"mode": "755"}, nil, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return err
	}
	defer tmp.Close()
	if err := linux.MoveMount(tmp, target); err != nil {
		return err
	}
	keys := make([]string, 0, len(c.CgroupDirs))
	for k := range c.CgroupDirs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		name := strings.TrimPrefix(key, "name=")
		sub := path.Join(m.Destination, name)
		if tree := premadeCgroup[key]; tree != nil {
			delete(premadeCgroup, key) // a second cgroup mount binds its own
			if err := attachPremade(root, specs.Mount{Destination: sub}, tree); err != nil {
				return fmt.Errorf("cgroup %s: %w", key, err)
			}
			continue
		}
		bm := specs.Mount{Source: c.CgroupDirs[key], Destination: sub, Type: "bind"}
		if err := bindMount(root, bm, spec.MountOptions{Attr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return fmt.Errorf("cgroup %s: %w", key, err)
		}
	}
	return linux.SetAttr(tmp, unix.MOUNT_ATTR_RDONLY, 0, 0, false)
}

// attachPremade attaches an id-mapped bind the runtime made (only host root
// can create one) at the mount's destination, resolved inside the rootfs.
func attachPremade(root *os.File, m specs.Mount, tree *os.File) error {
	defer tree.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(tree.Fd()), &st); err != nil {
		return err
	}
	target, err := mountTarget(root, m.Destination, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	defer target.Close()
	return linux.MoveMount(tree, target)
}

// mountTarget makes (or finds) a bind mount's target inside the rootfs: a
// directory for a directory source, a file for anything else.
func mountTarget(root *os.File, dst string, dir bool) (*os.File, error) {
	if dir {
		return pathrs.MkdirAll(root, dst, 0o755)
	}
	return pathrs.CreateFile(root, dst)
}
