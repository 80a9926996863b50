package exeseal

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ReadOnly returns a detached, read-only bind mount of the running
// executable (open_tree OPEN_TREE_CLONE, then mount_setattr RDONLY): a
// process exec'd through it has /proc/PID/exe on a read-only mount, so the
// CVE-2019-5736 write (reopening that link for writing once the runtime has
// exited) fails with EROFS. Nobody outside the runtime's mount namespace can
// clone the detached mount or change its flags. It costs ~40 us where Copy
// costs milliseconds (docs/adr/0005).
func ReadOnly() (*os.File, error) {
	return readOnly(unix.AT_FDCWD, "/proc/self/exe", 0)
}

// ReadOnlyFile is ReadOnly for another executable, already open (the
// detached mount is made from the fd: what was checked is what runs).
func ReadOnlyFile(f *os.File) (*os.File, error) {
	return readOnly(int(f.Fd()), "", unix.AT_EMPTY_PATH)
}

func readOnly(dirfd int, path string, flags uint) (*os.File, error) {
	fd, err := unix.OpenTree(dirfd, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|flags)
	if err != nil {
		return nil, fmt.Errorf("read-only binary: open_tree: %w", err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("read-only binary: mount_setattr: %w", err)
	}
	return os.NewFile(uintptr(fd), "trustbox-init-ro"), nil
}

// Seals makes the memfd immutable: no write, grow, shrink, or new seals.
const Seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// Copy returns a sealed memfd holding the running executable. A process in
// the container that reaches it through /proc/PID/exe can neither write it
// nor reach the binary on disk.
func Copy() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("seal binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("trustbox-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err != nil {
		// Kernels before 6.3 do not know MFD_EXEC.
		fd, err = unix.MemfdCreate("trustbox-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("seal binary: memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "trustbox-init")
	st, err := src.Stat()
	if err == nil {
		_, err = copyFile(mem, src, st.Size())
	}
	if err == nil {
		_, err = unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, Seals)
	}
	if err != nil {
		mem.Close()
		return nil, fmt.Errorf("seal binary: %w", err)
	}
	return mem, nil
}

// copyFile copies with sendfile/copy_file_range where the kernel allows it.
func copyFile(dst, src *os.File, size int64) (int64, error) {
	var done int64
	for done < size {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), nil, int(size-done))
		if err != nil || n == 0 {
			m, err2 := io.Copy(dst, src)
			return done + m, err2
		}
		done += int64(n)
	}
	return done, nil
}

// WritableFrom reports whether a process whose host ids are limited to those
// for which uidMapped/gidMapped say true could open the running binary for
// writing. Only then does init need the sealed copy: a container whose user
// namespace maps neither the binary's owner nor (if group-writable) its group
// cannot write it through /proc/PID/exe (docs/adr/0003).
func WritableFrom(uidMapped, gidMapped func(uint32) bool) (bool, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return true, fmt.Errorf("stat own binary: %w", err)
	}
	switch {
	case st.Mode&0o002 != 0:
		return true, nil
	case uidMapped(st.Uid):
		return true, nil
	case st.Mode&0o020 != 0 && gidMapped(st.Gid):
		return true, nil
	}
	return false, nil
}
