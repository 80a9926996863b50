package initproc

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
	"github.com/trustbox/trustbox/internal/linux"
	"github.com/trustbox/trustbox/internal/pathrs"
)

// procSelfFd is a handle on /proc/self/fd taken from the host procfs before
// pivot_root, so reopening the exec fifo never depends on the container's /proc.
var procSelfFd *os.File

// setupRootfs builds the container's filesystem view and pivots into it.
func setupRootfs(c *config.Init) error {
	s := c.Spec
	prop := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if p, ok := propagation[s.Linux.RootfsPropagation]; ok && s.Linux.RootfsPropagation != "" {
		prop = p
	}
	if err := unix.Mount("", "/", "", prop, ""); err != nil {
		return fmt.Errorf("make / %s: %w", s.Linux.RootfsPropagation, err)
	}
	proc, err := linux.Openat2(unix.AT_FDCWD, "/proc", unix.O_PATH|unix.O_DIRECTORY, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return fmt.Errorf("open host procfs handle: %w", err)
	}
	if err := openProcSelfFd(proc); err != nil {
		return err
	}
	// Bind the rootfs onto itself so it is a mount point pivot_root accepts.
	tree := rootfsMount
	if tree == nil {
		if tree, err = linux.CloneTree(unix.AT_FDCWD, c.Rootfs, true); err != nil {
			return fmt.Errorf("rootfs %s: %w", c.Rootfs, err)
		}
	}
	defer tree.Close()
	target, err := os.OpenFile(c.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if errors.Is(err, unix.EACCES) {
		return fmt.Errorf("rootfs %s is not reachable by the container's root user: every parent directory must be searchable (chmod o+x)", c.Rootfs)
	}
	if err != nil {
		return fmt.Errorf("rootfs %s: %w", c.Rootfs, err)
	}
	err = linux.MoveMount(tree, target)
	target.Close()
	if err != nil {
		return fmt.Errorf("rootfs %s: %w", c.Rootfs, err)
	}
	root, err := os.OpenFile(c.Rootfs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("rootfs %s: %w", c.Rootfs, err)
	}
	defer root.Close()
	for i, m := range s.Mounts {
		if tree := premade[i]; tree != nil {
			err = attachPremade(root, m, tree)
		} else {
			err = mountOne(c, root, m)
		}
		if err != nil {
			return fmt.Errorf("mounts[%d] %s on %s: %w", i, m.Type, m.Destination, err)
		}
	}
	if err := createDevices(c, root); err != nil {
		return err
	}
	if err := hostnameAndHooks(c); err != nil {
		return err
	}
	if err := pivot(c.Rootfs, c.NoPivot); err != nil {
		return err
	}
	if err := applySysctl(s.Linux.Sysctl); err != nil {
		return err
	}
	if err := maskPaths(s.Linux.MaskedPaths); err != nil {
		return err
	}
	if err := readonlyPaths(s.Linux.ReadonlyPaths); err != nil {
		return err
	}
	if s.Root.Readonly {
		if err := setRootReadonly(); err != nil {
			return err
		}
	}
	return nil
}

// enterSharedMounts prepares a container that shares a running container's
// mount namespace, entered by the nsenter constructor (config.Init.SharedMounts):
// that namespace is already the container's view, its kernel filesystems
// masked and read-only by the baseline, and changing it would change the
// other container too. Only what is this container's own is set up.
func enterSharedMounts(c *config.Init) error {
	if c.HostProcFd < firstFd {
		return fmt.Errorf("init config: no host procfs handle for the shared mount namespace")
	}
	unix.CloseOnExec(c.HostProcFd)
	proc := os.NewFile(uintptr(c.HostProcFd), "host-proc")
	if err := openProcSelfFd(proc); err != nil {
		return err
	}
	if err := hostnameAndHooks(c); err != nil {
		return err
	}
	// setns(2) made the namespace's root this process's root and cwd.
	return unix.Chdir("/")
}

// openProcSelfFd checks that proc is a procfs of the host's and takes
// procSelfFd from it; it closes proc.
func openProcSelfFd(proc *os.File) error {
	defer proc.Close()
	if err := verifyProcfs(proc); err != nil {
		return err
	}
	var err error
	if procSelfFd, err = linux.Openat2(int(proc.Fd()), "self/fd", unix.O_PATH|unix.O_DIRECTORY, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_MAGICLINKS); err != nil {
		return fmt.Errorf("open host procfs handle: %w", err)
	}
	return nil
}

// hostnameAndHooks sets the UTS names and runs the hooks due before the
// container's root is final.
func hostnameAndHooks(c *config.Init) error {
	if err := setHostname(c.Spec); err != nil {
		return err
	}
	if c.RuntimeHooks {
		// OCI: prestart and createRuntime hooks run in the runtime's
		// namespaces after the container's exist, before pivot_root (a GPU
		// hook mounts into the rootfs through this mount namespace).
		if err := awaitRuntimeHooks(syncSock); err != nil {
			return err
		}
	}
	return runHooks(c.Spec.Hooks, "createContainer", c.State)
}

var propagation = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

func verifyProcfs(f *os.File) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("statfs procfs handle: %w", err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("procfs handle %s is not procfs (magic %#x): refusing (CVE-2019-19921)", f.Name(), st.Type)
	}
	return nil
}

// pivot makes rootfs the new "/" and detaches the host's tree from the namespace.
func pivot(rootfs string, noPivot bool) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir rootfs: %w", err)
	}
	if noPivot {
		if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move rootfs to /: %w", err)
		}
		if err := unix.Chroot("."); err != nil {
			return fmt.Errorf("chroot: %w", err)
		}
		return unix.Chdir("/")
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	// The old root is stacked under "."; keep unmount events from reaching the host, then detach it.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

func setHostname(s *specs.Spec) error {
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("hostname %q: %w", s.Hostname, err)
		}
	}
	if s.Domainname != "" {
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("domainname %q: %w", s.Domainname, err)
		}
	}
	return nil
}

// openInRoot resolves p inside the (pivoted) container root without following magic links.
func openInRoot(p string, flags uint64) (*os.File, error) {
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return pathrs.Open(root, p, flags)
}
