package e2e

import (
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// inChildPidNS tells a re-parented container init (in its own pid namespace)
// from the test's own exec children, which their exec.Cmd reaps.
func inChildPidNS(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			return len(strings.Fields(v)) > 1
		}
	}
	return false
}

// The test binary plays containerd-shim's part: it is a child subreaper, so
// containers whose runtime exited (create, run -d) are re-parented to it and
// reaped here. This VM's pid 1 never reaps, and a zombie pins its v1 cgroups.
var (
	trackMu sync.Mutex
	tracked = map[int]bool{} // children started through exec.Cmd, reaped by Wait
)

func TestMain(m *testing.M) {
	if os.Geteuid() == 0 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err == nil {
			ch := make(chan os.Signal, 16)
			signal.Notify(ch, unix.SIGCHLD)
			go func() {
				for range ch {
					reapOrphans()
				}
			}()
		}
	}
	os.Exit(m.Run())
}

// startTracked starts cmd so the reaper leaves it to cmd.Wait.
func startTracked(cmd *exec.Cmd) error {
	trackMu.Lock()
	defer trackMu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	tracked[cmd.Process.Pid] = true
	return nil
}

func waitTracked(cmd *exec.Cmd) error {
	err := cmd.Wait()
	trackMu.Lock()
	delete(tracked, cmd.Process.Pid)
	trackMu.Unlock()
	return err
}

func reapOrphans() {
	trackMu.Lock()
	defer trackMu.Unlock()
	self := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || tracked[pid] {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == self && inChildPidNS(pid) {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
	}
}
