package seccomp

import (
	"encoding/json"
	"net"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A seccomp agent listening on listenerPath receives the state JSON and a
// working fd, as the OCI spec describes.
func TestSendListener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	done := make(chan error, 1)
	go func() {
		done <- SendListener(path, p[1], specs.ContainerProcessState{Pid: 42, Metadata: "m", State: specs.State{ID: "c1"}})
	}()
	conn, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf, oob := make([]byte, 4096), make([]byte, 64)
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		t.Fatal(err)
	}
	if st.Pid != 42 || st.Metadata != "m" || st.State.ID != "c1" || len(st.Fds) != 1 || st.Fds[0] != "seccompFd" || st.Version == "" {
		t.Errorf("state %+v", st)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v %v", fds, err)
	}
	defer unix.Close(fds[0])
	if _, err := unix.Write(fds[0], []byte("x")); err != nil {
		t.Errorf("received fd does not work: %v", err)
	}
	if _, err := unix.Read(p[0], buf[:1]); err != nil || buf[0] != 'x' {
		t.Errorf("pipe did not carry the byte: %v", err)
	}
	if SendListener(filepath.Join(t.TempDir(), "none.sock"), p[1], specs.ContainerProcessState{}) == nil {
		t.Error("sending to a missing agent succeeded")
	}
}
