package linux

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// CloneTree returns a detached copy of the mount tree at path (open_tree OPEN_TREE_CLONE).
func CloneTree(dirfd int, path string, recursive bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if path == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	var fd int
	err := Retry(func() (e error) { fd, e = unix.OpenTree(dirfd, path, flags); return e })
	if err != nil {
		return nil, fmt.Errorf("open_tree %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// SetAttr changes mount attributes (read-only, nosuid, …, propagation) of a mount fd.
func SetAttr(mnt *os.File, set, clr uint64, propagation uint64, recursive bool) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: set, Attr_clr: clr, Propagation: propagation}
	if err := Retry(func() error { return unix.MountSetattr(int(mnt.Fd()), "", flags, &attr) }); err != nil {
		return fmt.Errorf("mount_setattr %s: %w", mnt.Name(), err)
	}
	return nil
}

// MoveMount attaches the detached mount mnt on top of the inode that target refers to.
func MoveMount(mnt, target *os.File) error {
	err := Retry(func() error {
		return unix.MoveMount(int(mnt.Fd()), "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	})
	if err != nil {
		return fmt.Errorf("move_mount onto %s: %w", target.Name(), err)
	}
	return nil
}

// NewFS creates a detached mount of a fresh filesystem (fsopen/fsconfig/fsmount).
func NewFS(fstype, source string, opts map[string]string, flagOpts []string, attrs uint64) (*os.File, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(fsfd)
	if source != "" {
		if err := unix.FsconfigSetString(fsfd, "source", source); err != nil {
			return nil, fmt.Errorf("fsconfig %s source=%s: %w", fstype, source, err)
		}
	}
	for k, v := range opts {
		if err := unix.FsconfigSetString(fsfd, k, v); err != nil {
			return nil, fmt.Errorf("fsconfig %s %s=%s: %w", fstype, k, v, err)
		}
	}
	for _, k := range flagOpts {
		if err := unix.FsconfigSetFlag(fsfd, k); err != nil {
			return nil, fmt.Errorf("fsconfig %s %s: %w", fstype, k, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return nil, fmt.Errorf("fsconfig %s create: %w", fstype, err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, int(attrs))
	if err != nil {
		return nil, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return os.NewFile(uintptr(mfd), fstype), nil
}

// DeviceTree returns a detached bind of the host's device node at path,
// made a one-way slave so mounts over it never travel back to the host,
// after checking, on the opened file, that it is the node asked for: typ
// "c" or "u" a character device, "b" a block device, each with that
// major:minor (a fifo is made afresh, never bound: see initproc). Symlinks
// such as /dev/disk/by-id/* are followed, magic links (/dev/fd/*) are not.
// Without the check, a "device" would bind any host file into the
// container, read as whoever makes the bind.
func DeviceTree(path, typ string, major, minor int64) (*os.File, error) {
	f, err := Openat2(unix.AT_FDCWD, path, unix.O_PATH, unix.RESOLVE_NO_MAGICLINKS)
	if err != nil {
		return nil, fmt.Errorf("host device %s: %w", path, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("host device %s: %w", path, err)
	}
	want := map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK}[typ]
	ok := want != 0 && st.Mode&unix.S_IFMT == want &&
		int64(unix.Major(st.Rdev)) == major && int64(unix.Minor(st.Rdev)) == minor
	if !ok {
		return nil, fmt.Errorf("host device %s is not the %s %d:%d node the config names", path, typ, major, minor)
	}
	tree, err := CloneTree(int(f.Fd()), "", false)
	if err != nil {
		return nil, fmt.Errorf("host device %s: %w", path, err)
	}
	if err := SetAttr(tree, 0, 0, unix.MS_SLAVE, false); err != nil {
		tree.Close()
		return nil, err
	}
	return tree, nil
}
