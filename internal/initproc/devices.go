package initproc

import (
	"errors"
	"fmt"
	"os"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/linux"
	"github.com/trustbox/trustbox/internal/pathrs"
	"github.com/trustbox/trustbox/internal/spec"
)

func createDevices(c *config.Init, root *os.File) error {
	for _, d := range spec.Devices(c.Spec) {
		if err := createDevice(root, d, c.UserNS); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	links := [][2]string{{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}, {"pts/ptmx", "/dev/ptmx"}}
	dev, err := pathrs.MkdirAll(root, "/dev", 0o755)
	if err != nil {
		return err
	}
	defer dev.Close()
	for _, l := range links {
		if err := unix.Symlinkat(l[0], int(dev.Fd()), path.Base(l[1])); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink %s: %w", l[1], err)
		}
	}
	return nil
}

// createDevice makes a device node with O_EXCL semantics (mknodat never
// follows or reuses), or, inside a user namespace where mknod is not
// allowed, bind-mounts the host's node over a fresh file.
func createDevice(root *os.File, d specs.LinuxDevice, userns bool) error {
	parent, err := pathrs.MkdirAll(root, path.Dir(d.Path), 0o755)
	if err != nil {
		return err
	}
	defer parent.Close()
	name := path.Base(d.Path)
	if userns && d.Type != "p" { // a fifo is made afresh, never the host's
		f, err := pathrs.CreateFile(root, d.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return fmt.Errorf("refusing to mount over a non-regular file in the rootfs")
		}
		tree := premadeDevice[d.Path] // the runtime's bind of the host node
		delete(premadeDevice, d.Path)
		if tree == nil {
			if tree, err = linux.DeviceTree(d.Path, d.Type, d.Major, d.Minor); err != nil {
				return err
			}
		}
		defer tree.Close()
		return linux.MoveMount(tree, f)
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode) & 0o7777
	}
	switch d.Type {
	case "c", "u":
		mode |= unix.S_IFCHR
	case "b":
		mode |= unix.S_IFBLK
	case "p":
		mode |= unix.S_IFIFO
	}
	if err := unix.Mknodat(int(parent.Fd()), name, mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("%s already exists in the rootfs: refusing to reuse it", d.Path)
		}
		return err
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(int(parent.Fd()), name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	return unix.Fchmodat(int(parent.Fd()), name, mode&0o7777, 0)
}
