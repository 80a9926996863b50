package pathrs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/linux"
)

// Resolve is the resolution every container-path lookup uses: symlinks are
// followed as if the rootfs were "/", and /proc magic links are refused.
const Resolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// Open opens p inside root (an fd of the rootfs directory).
func Open(root *os.File, p string, flags uint64) (*os.File, error) {
	rel := strings.TrimLeft(path.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	return linux.Openat2(int(root.Fd()), rel, flags, Resolve)
}

// MkdirAll makes directory p inside root, component by component, and returns
// an O_PATH handle to it. Every component is resolved inside root, so a symlink
// planted by the container can never lead the runtime out of it. A symlink
// whose target is missing has its target made, resolved inside root as if
// root were "/" (as runc does: /var/run -> /run with /run/x missing makes
// /run/x); at most 40 symlinks are followed, as the kernel allows.
func MkdirAll(root *os.File, p string, mode uint32) (*os.File, error) {
	return mkdirAll(root, p, mode, 0)
}

const maxSymlinks = 40

func mkdirAll(root *os.File, p string, mode uint32, links int) (*os.File, error) {
	clean := path.Clean("/" + p)
	if f, err := Open(root, clean, unix.O_PATH|unix.O_DIRECTORY); err == nil {
		return f, nil
	} else if !errors.Is(err, unix.ENOENT) {
		return nil, err
	}
	parent, err := mkdirAll(root, path.Dir(clean), mode, links)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	base := path.Base(clean)
	if err := unix.Mkdirat(int(parent.Fd()), base, mode); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("mkdir %s in rootfs: %w", clean, err)
	}
	f, err := Open(root, clean, unix.O_PATH|unix.O_DIRECTORY)
	if !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	// base exists but does not resolve: a symlink to something missing.
	target, rerr := readlinkat(parent, base)
	if rerr != nil {
		return nil, fmt.Errorf("%s in rootfs: %w", clean, err)
	}
	if links >= maxSymlinks {
		return nil, fmt.Errorf("%s in rootfs: %w", clean, unix.ELOOP)
	}
	next := target
	if !path.IsAbs(target) {
		next = path.Join(path.Dir(clean), target)
	}
	made, err := mkdirAll(root, next, mode, links+1)
	if err != nil {
		return nil, err
	}
	made.Close()
	return Open(root, clean, unix.O_PATH|unix.O_DIRECTORY)
}

func readlinkat(dir *os.File, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(dir.Fd()), name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// CreateFile makes sure regular file p exists inside root (creating parents)
// and returns an O_PATH handle to it. It never opens an existing file for
// writing and refuses to reuse anything that is not a regular file or device.
func CreateFile(root *os.File, p string) (*os.File, error) {
	clean := path.Clean("/" + p)
	if f, err := Open(root, clean, unix.O_PATH); err == nil {
		return f, nil
	} else if !errors.Is(err, unix.ENOENT) {
		return nil, err
	}
	parent, err := MkdirAll(root, path.Dir(clean), 0o755)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), path.Base(clean), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create %s in rootfs: %w", clean, err)
	}
	if err == nil {
		unix.Close(fd)
	}
	return Open(root, clean, unix.O_PATH)
}
