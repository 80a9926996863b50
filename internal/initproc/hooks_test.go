package initproc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A hook's timeout holds even when what the hook started keeps its output
// open: the hook's process group goes with it. Before, Wait waited for
// the output to close, here for ten minutes; a child blocked on the
// runtime's own lock never let go.
func TestHookTimeoutKillsWhatTheHookStarted(t *testing.T) {
	dir := t.TempDir()
	timeout := 1
	hk := specs.Hook{Path: "/bin/sh", Timeout: &timeout, Args: []string{"sh", "-c",
		"sleep 600 & echo $! > " + filepath.Join(dir, "pid") + "; sleep 600"}}
	done := make(chan error, 1)
	go func() { done <- RunHook(hk, []byte("{}")) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("RunHook: %v, want a timeout", err)
		}
	case <-time.After(60 * time.Second): // bounded: a hang must fail, not stall the suite
		t.Fatal("RunHook still waiting a minute after the hook's 1 s timeout")
	}
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && !strings.Contains(string(st), ") Z ") {
		t.Errorf("the hook's background child %d survived: %s", pid, st)
	}
}

// A hook that succeeds but leaves a child holding its output (a daemon
// started without redirecting) succeeds, after WaitDelay, not never.
func TestHookLeavingAChildSucceeds(t *testing.T) {
	hk := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 30 & exit 0"}}
	done := make(chan error, 1)
	go func() { done <- RunHook(hk, nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunHook: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("RunHook waited for the hook's child")
	}
}
