package initproc

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/linux"
)

// maskPaths hides kernel interfaces: /dev/null over files, an empty
// read-only tmpfs over directories (R-LSM-g).
func maskPaths(paths []string) error {
	for _, p := range paths {
		f, err := openInRoot(p, unix.O_PATH|unix.O_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(int(f.Fd()), &st)
		if err == nil {
			var mnt *os.File
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				mnt, err = linux.NewFS("tmpfs", "tmpfs", map[string]string{"size": "0", "mode": "0"}, nil, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
			} else {
				mnt, err = linux.CloneTree(unix.AT_FDCWD, "/dev/null", false)
			}
			if err == nil {
				err = linux.MoveMount(mnt, f)
				mnt.Close()
			}
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
	}
	return nil
}

// readonlyPaths re-binds each path onto itself, recursively read-only.
func readonlyPaths(paths []string) error {
	for _, p := range paths {
		f, err := openInRoot(p, unix.O_PATH|unix.O_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read-only %s: %w", p, err)
		}
		err = func() error {
			defer f.Close()
			tree, err := linux.CloneTree(int(f.Fd()), "", true)
			if err != nil {
				return err
			}
			defer tree.Close()
			if err := linux.SetAttr(tree, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC, 0, 0, true); err != nil {
				return err
			}
			return linux.MoveMount(tree, f)
		}()
		if err != nil {
			return fmt.Errorf("read-only %s: %w", p, err)
		}
	}
	return nil
}

func setRootReadonly() error {
	f, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := linux.SetAttr(f, unix.MOUNT_ATTR_RDONLY, 0, 0, false); err != nil {
		return fmt.Errorf("read-only rootfs: %w", err)
	}
	return nil
}

// applySysctl writes namespaced sysctls through a verified procfs (the spec
// package has already refused non-namespaced keys).
func applySysctl(sysctl map[string]string) error {
	if len(sysctl) == 0 {
		return nil
	}
	procSys, err := openInRoot("/proc/sys", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("sysctl: the container has no /proc: %w", err)
	}
	defer procSys.Close()
	if err := verifyProcfs(procSys); err != nil {
		return err
	}
	for k, v := range sysctl {
		rel := strings.ReplaceAll(k, ".", "/")
		f, err := linux.Openat2(int(procSys.Fd()), rel, unix.O_WRONLY|unix.O_TRUNC, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
		if err != nil {
			return fmt.Errorf("sysctl %s: %w", k, err)
		}
		_, err = f.WriteString(v)
		f.Close()
		if err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}
