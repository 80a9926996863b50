package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/linux"
)

// sendConfig sends init its config and, when the container's root must see
// the image's root-owned files as its own, an id-mapped mount of the rootfs:
// only host root can create it, and only after init's user namespace exists.
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
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	msg, err := config.Encode(cfg)
	if err != nil {
		return fmt.Errorf("send init config: %w", err)
	}
	if err := unix.Sendmsg(int(sock.Fd()), msg, oob, nil, 0); err != nil {
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
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(int(mnt.Fd()), "", unix.AT_EMPTY_PATH, &attr); err != nil {
		mnt.Close()
		return nil, fmt.Errorf("id-mapped rootfs %s: %w (the filesystem may not support id-mapped mounts)", rootfs, err)
	}
	return mnt, nil
}
