package seccomp

import (
	"encoding/json"
	"fmt"
	"net"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListener hands a filter's listener fd to the seccomp agent at the
// profile's listenerPath, as the OCI runtime spec asks: one message on a
// stream socket carrying the ContainerProcessState JSON and the fd
// (SCM_RIGHTS), named "seccompFd" in its fds list.
func SendListener(path string, fd int, st specs.ContainerProcessState) error {
	st.Fds = []string{specs.SeccompFdName}
	if st.Version == "" {
		st.Version = specs.Version
	}
	msg, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("send seccomp listener: encode state: %w", err)
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("send seccomp listener to agent %s: %w", path, err)
	}
	defer conn.Close()
	if _, _, err := conn.WriteMsgUnix(msg, unix.UnixRights(fd), nil); err != nil {
		return fmt.Errorf("send seccomp listener to agent %s: %w", path, err)
	}
	return nil
}
