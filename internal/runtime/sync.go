package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// socketPair makes the SOCK_SEQPACKET pair the runtime and init talk over.
func socketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// awaitReady reads init's messages until it is ready, forwarding a pty master if one arrives.
func (ip *initProc) awaitReady(sock *os.File, c *Container) error {
	for {
		m, fd, err := recvMsg(sock)
		if err != nil {
			return fmt.Errorf("container init: %w", err)
		}
		switch m.Type {
		case "ready":
			return nil
		case "error":
			return errors.New(m.Error)
		case "hooks":
			// Init has made the container's namespaces and mounts and waits
			// before createContainer hooks and pivot_root (OCI order).
			if err := ip.runtimeHooks(); err != nil {
				return err
			}
			if _, err := sock.Write(marshal(config.Message{Type: "hooks-done"})); err != nil {
				return fmt.Errorf("container init: %w", err)
			}
		case "pty":
			pty := os.NewFile(uintptr(fd), "pty-master")
			if ip.o.ConsoleSocket == "" {
				c.Pty = pty
				continue
			}
			err := sendConsole(ip.o.ConsoleSocket, pty)
			pty.Close()
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("container init: unexpected message %q", m.Type)
		}
	}
}

func recvMsg(sock *os.File) (config.Message, int, error) {
	var m config.Message
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return m, -1, err
	}
	if n == 0 {
		return m, -1, io.ErrUnexpectedEOF
	}
	fd := -1
	if oobn > 0 {
		if cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(cmsgs) > 0 {
			if fds, err := unix.ParseUnixRights(&cmsgs[0]); err == nil && len(fds) > 0 {
				fd = fds[0]
			}
		}
	}
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		return m, fd, fmt.Errorf("bad message from init: %w", err)
	}
	return m, fd, nil
}

// sendConsole passes the pty master to --console-socket (runc's protocol: SCM_RIGHTS).
func sendConsole(path string, pty *os.File) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("--console-socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("--console-socket %s: %w", path, err)
	}
	if err := unix.Sendmsg(fd, []byte("/dev/ptmx"), unix.UnixRights(int(pty.Fd())), nil, 0); err != nil {
		return fmt.Errorf("--console-socket %s: %w", path, err)
	}
	return nil
}
