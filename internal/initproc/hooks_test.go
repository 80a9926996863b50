package initproc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runHookBounded runs a hook that writes its background child's pid to
// the file named by $PIDFILE, fails the test if RunHook has not returned
// within limit (a hang must fail, not stall the suite), and kills the
// child afterwards.
func runHookBounded(t *testing.T, script string, timeout *int, limit time.Duration) error {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "pid")
	hk := specs.Hook{Path: "/bin/sh", Timeout: timeout, Args: []string{"sh", "-c", script}, Env: []string{"PIDFILE=" + pidFile}}
	done := make(chan error, 1)
	go func() { done <- RunHook(hk, []byte("{}")) }()
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	select {
	case err := <-done:
		if b, ferr := os.ReadFile(pidFile); ferr != nil || strings.TrimSpace(string(b)) == "" {
			t.Fatalf("the hook did not start its child (%v): the test proves nothing", ferr)
		}
		return err
	case <-time.After(limit):
		t.Fatalf("RunHook still waiting after %s", limit)
		return nil
	}
}

// A hook's timeout holds even when a child the hook started keeps its
// output open. Before, Wait waited for the output to close: here for ten
// minutes; for a child blocked on the runtime's own lock, for ever.
func TestHookTimeoutHoldsWhenAChildKeepsItsOutput(t *testing.T) {
	timeout := 1
	err := runHookBounded(t, `sleep 600 & echo $! > "$PIDFILE"; sleep 600`, &timeout, 60*time.Second)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("RunHook: %v, want a timeout", err)
	}
}

// A hook that exits 0 but leaves a child holding its output (a daemon
// started without redirecting) succeeded: after WaitDelay, not never, and
// not as a timeout when its deadline passes while RunHook waits.
func TestHookLeavingAChildSucceeds(t *testing.T) {
	timeout := 1
	for _, tc := range []struct {
		name    string
		timeout *int
	}{{"no timeout", nil}, {"deadline during the wait", &timeout}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := runHookBounded(t, `sleep 30 & echo $! > "$PIDFILE"; exit 0`, tc.timeout, 20*time.Second); err != nil {
				t.Fatalf("RunHook: %v", err)
			}
		})
	}
}

// A failing hook still fails, with its output.
func TestHookFailureReported(t *testing.T) {
	err := RunHook(specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo boom; exit 3"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("RunHook: %v", err)
	}
}
