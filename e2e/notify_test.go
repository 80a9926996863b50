package e2e

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/seccomp"
)

// agent is a seccomp agent at a profile's listenerPath: it takes each
// listener trustbox hands it and lets every notified call continue, recording it.
type agent struct {
	states chan specs.ContainerProcessState
	calls  chan map[string]int
}

func startAgent(t *testing.T, path string) *agent {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	a := &agent{states: make(chan specs.ContainerProcessState, 4), calls: make(chan map[string]int, 4)}
	go func() {
		for {
			c, err := l.AcceptUnix()
			if err != nil {
				return
			}
			buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
			n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
			c.Close()
			if err != nil {
				continue
			}
			var st specs.ContainerProcessState
			_ = json.Unmarshal(buf[:n], &st)
			a.states <- st
			cm, _ := unix.ParseSocketControlMessage(oob[:oobn])
			fds, _ := unix.ParseUnixRights(&cm[0])
			rec := seccomp.NewRecording()
			go func() { _ = rec.Supervise(fds[0]); unix.Close(fds[0]); a.calls <- rec.Calls() }()
		}
	}()
	return a
}

// SCMP_ACT_NOTIFY: the listener of the container's filter, and of each exec'd
// process's, reaches the agent at listenerPath with the OCI seccomp state.
func TestSeccompNotifyAgent(t *testing.T) {
	e := newEnv(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	a := startAgent(t, sock)
	def, err := seccomp.Builtin("default")
	if err != nil {
		t.Fatal(err)
	}
	prof, err := def.ToOCI(seccomp.Env{})
	if err != nil {
		t.Fatal(err)
	}
	notify := specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}
	prof.Syscalls = append([]specs.LinuxSyscall{notify}, prof.Syscalls...)
	prof.ListenerPath, prof.ListenerMetadata = sock, "agent-metadata"
	b := e.bundle([]string{"sh", "-c", "mkdir /tmp/a && echo made && sleep 1000"}, func(s *specs.Spec) { s.Linux.Seccomp = prof })
	e.must("run", "-d", "--bundle", b, "e2e-notify")
	defer e.run("delete", "-f", "e2e-notify")
	st := <-a.states
	if st.Metadata != "agent-metadata" || st.State.ID != "e2e-notify" || st.Pid <= 0 || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName {
		t.Fatalf("seccomp state sent to the agent: %+v", st)
	}
	if out := e.must("exec", "e2e-notify", "sh", "-c", "mkdir /tmp/b && echo exec-made"); !strings.Contains(out, "exec-made") {
		t.Fatalf("exec under the agent: %q", out)
	}
	if st2 := <-a.states; st2.State.ID != "e2e-notify" {
		t.Fatalf("exec's state: %+v", st2)
	}
	if calls := <-a.calls; calls["mkdir"]+calls["mkdirat"] == 0 {
		t.Fatalf("the agent saw no mkdir from the exec'd process: %v", calls)
	}
}
