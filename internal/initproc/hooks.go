package initproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/config"
)

// runHooks runs the createContainer or startContainer hooks from inside the
// container's namespaces, each with the state JSON on stdin.
func runHooks(h *specs.Hooks, kind string, state []byte) error {
	if h == nil {
		return nil
	}
	hooks := h.CreateContainer
	if kind == "startContainer" {
		hooks = h.StartContainer
	}
	for i, hk := range hooks {
		if err := RunHook(hk, state); err != nil {
			return fmt.Errorf("hooks.%s[%d] %s: %w", kind, i, hk.Path, err)
		}
	}
	return nil
}

// RunHook runs one OCI hook with the state on stdin and its timeout.
func RunHook(hk specs.Hook, state []byte) error {
	ctx := context.Background()
	if hk.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*hk.Timeout)*time.Second)
		defer cancel()
	}
	args := hk.Args
	if len(args) == 0 {
		args = []string{hk.Path}
	}
	cmd := exec.CommandContext(ctx, hk.Path)
	cmd.Args = args
	cmd.Env = hk.Env
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// On timeout the hook is killed, as runc does, and WaitDelay bounds
	// the wait for its output: a child the hook left holds it open, and Wait
	// would otherwise wait for that child for ever, timeout or not (one
	// waiting for a lock the runtime holds never ends). A hook that exited 0
	// but left such a child succeeded. Its children are not hunted down: a
	// process group of its own breaks hooks wrapped in setsid(1), which
	// forks when its caller leads a group, and stops hooks that touch the
	// terminal; walking /proc is unsafe in init, whose /proc before
	// pivot_root is the host's.
	var timedOut atomic.Bool
	cmd.Cancel = func() error {
		timedOut.Store(true)
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	switch {
	case timedOut.Load():
		return fmt.Errorf("timed out after %ds", *hk.Timeout)
	case err == nil || errors.Is(err, exec.ErrWaitDelay):
		return nil
	default:
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
}

// awaitRuntimeHooks asks the runtime to run the prestart and createRuntime
// hooks and waits until it has.
func awaitRuntimeHooks(sync *os.File) error {
	if err := send(sync, config.Message{Type: "hooks"}); err != nil {
		return fmt.Errorf("ask for runtime hooks: %w", err)
	}
	buf := make([]byte, 4096)
	n, err := sync.Read(buf)
	if err != nil {
		return fmt.Errorf("wait for runtime hooks: %w", err)
	}
	var m config.Message
	if err := json.Unmarshal(buf[:n], &m); err != nil || m.Type != "hooks-done" {
		return fmt.Errorf("wait for runtime hooks: unexpected reply %q", buf[:n])
	}
	return nil
}
