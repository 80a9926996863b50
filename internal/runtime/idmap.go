package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/linux"
	"github.com/trustbox/trustbox/internal/spec"
)

// HoldUsernsArg makes the trustbox binary wait on stdin and exit: a holder
// for a user namespace that exists only to describe an id-mapping.
const HoldUsernsArg = "userns-hold"

// mappingUserns returns an fd of a new user namespace with the given maps.
// Only its fd is needed (mount_setattr MOUNT_ATTR_IDMAP); the holder exits.
func mappingUserns(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	conv := func(ms []specs.LinuxIDMapping) []syscall.SysProcIDMap {
		var out []syscall.SysProcIDMap
		for _, m := range ms {
			out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		return out
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	defer w.Close()
	cmd := exec.Command("/proc/self/exe", HoldUsernsArg)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER, UidMappings: conv(uids), GidMappings: conv(gids)}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("id-mapping user namespace: %w", err)
	}
	defer cmd.Wait()
	defer w.Close()
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid))
	if err != nil {
		return nil, fmt.Errorf("id-mapping user namespace: %w", err)
	}
	return f, nil
}

// idmappedBind makes a detached bind of m.Source with m's id-mapping and options.
func idmappedBind(m specs.Mount) (*os.File, error) {
	opts, err := spec.ParseMountOptions(m.Options)
	if err != nil {
		return nil, err
	}
	userns, err := mappingUserns(m.UIDMappings, m.GIDMappings)
	if err != nil {
		return nil, err
	}
	defer userns.Close()
	recursive := opts.Recursive || m.Type == "rbind"
	tree, err := linux.CloneTree(unix.AT_FDCWD, m.Source, recursive)
	if err != nil {
		return nil, err
	}
	// A one-way slave first, every mount of the clone, as init's own
	// clones are (it makes / rslave before it binds): a clone of a shared
	// host mount is the host's peer, and a mount over it would travel back
	// to the host. A propagation the mount asks for is set on top, as init
	// does for its binds.
	if err := linux.SetAttr(tree, 0, 0, unix.MS_SLAVE, recursive); err != nil {
		tree.Close()
		return nil, fmt.Errorf("id-mapped mount of %s: %w", m.Source, err)
	}
	// The mapping covers every mount of the clone (a submount left
	// unmapped would show the host's ids); the attributes are recursive
	// only with rro and the like, as init's own binds (opts.RecursiveRO).
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(int(tree.Fd()), "", flags, &attr); err != nil {
		tree.Close()
		return nil, fmt.Errorf("id-mapped mount of %s: %w (the filesystem may not support id-mapped mounts)", m.Source, err)
	}
	if clr := opts.ClearAttr &^ unix.MOUNT_ATTR_RDONLY; opts.Attr != 0 || clr != 0 {
		if err := linux.SetAttr(tree, opts.Attr, clr, 0, opts.RecursiveRO); err != nil {
			tree.Close()
			return nil, fmt.Errorf("id-mapped mount of %s: %w", m.Source, err)
		}
	}
	if opts.Propagation != 0 {
		if err := linux.SetAttr(tree, 0, 0, uint64(opts.Propagation&^unix.MS_REC), opts.Propagation&unix.MS_REC != 0); err != nil {
			tree.Close()
			return nil, fmt.Errorf("id-mapped mount of %s: %w", m.Source, err)
		}
	}
	return tree, nil
}

// rootOnHost reads which host uid and gid a process's user namespace maps its
// uid 0 and gid 0 to (ok is false when 0 is not mapped).
func rootOnHost(pid int) (uid, gid int, ok bool) {
	find := func(file string) (int, bool) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
		if err != nil {
			return 0, false
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			in, _ := strconv.ParseUint(f[0], 10, 32)
			out, _ := strconv.ParseUint(f[1], 10, 32)
			n, _ := strconv.ParseUint(f[2], 10, 32)
			if in == 0 && n > 0 {
				return int(out), true
			}
		}
		return 0, false
	}
	u, uok := find("uid_map")
	g, gok := find("gid_map")
	return u, g, uok && gok
}

// ownFifoInJoinedUserns gives the exec fifo to the root of the user
// namespace init joined, so init can reopen it from inside.
func (ip *initProc) ownFifoInJoinedUserns() error {
	uid, gid, ok := rootOnHost(ip.st.Pid)
	if !ok {
		return fmt.Errorf("linux.namespaces: the joined user namespace does not map uid and gid 0")
	}
	if err := os.Chown(ip.r.dir(ip.st.ID)+"/exec.fifo", uid, gid); err != nil {
		return fmt.Errorf("exec fifo: %w", err)
	}
	return nil
}

// writeMaps answers the constructor's request to map the user namespace it
// just created (after joining namespaces by path): the spec's id mappings are
// written from outside, as only a process in the parent namespace may.
func (ip *initProc) writeMaps(sock *os.File, pid int) error {
	m, _, err := recvMsg(sock)
	switch {
	case err != nil:
		return fmt.Errorf("container init: %w", err)
	case m.Type == "error":
		return errors.New(m.Error)
	case m.Type != "userns":
		return fmt.Errorf("container init: unexpected message %q", m.Type)
	}
	format := func(maps []specs.LinuxIDMapping) []byte {
		var b strings.Builder
		for _, x := range maps {
			fmt.Fprintf(&b, "%d %d %d\n", x.ContainerID, x.HostID, x.Size)
		}
		return []byte(b.String())
	}
	s := ip.st.Spec
	for _, f := range []struct {
		file string
		data []byte
	}{{"uid_map", format(s.Linux.UIDMappings)}, {"gid_map", format(s.Linux.GIDMappings)}} {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/%s", pid, f.file), f.data, 0); err != nil {
			return fmt.Errorf("linux.%s: %w", map[string]string{"uid_map": "uidMappings", "gid_map": "gidMappings"}[f.file], err)
		}
	}
	if _, err := sock.Write([]byte{1}); err != nil {
		return fmt.Errorf("container init: %w", err)
	}
	return nil
}
