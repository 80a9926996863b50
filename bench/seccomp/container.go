package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// inContainer runs this (static) binary's loop inside a container started
// by runtime (runc or runsc) with the given linux.seccomp, and returns ns/op.
func inContainer(runtimeBin string, extra []string, sc *specs.LinuxSeccomp, op string, n int) (float64, error) {
	dir, err := os.MkdirTemp("", "tbx-bench-bundle-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	// user-namespaced roots (trustbox spec) must be able to search the bundle
	if err := os.Chmod(dir, 0o755); err != nil {
		return 0, err
	}
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"etc", "proc", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return 0, err
		}
	}
	_ = os.WriteFile(filepath.Join(rootfs, "etc/hostname"), []byte("bench\n"), 0o644)
	self, _ := os.Executable()
	data, err := os.ReadFile(self)
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bench"), data, 0o755); err != nil {
		return 0, err
	}
	gen := exec.Command(runtimeBin, "spec", "--bundle", dir)
	if out, err := gen.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s spec: %v: %s", runtimeBin, err, out)
	}
	cfgPath := filepath.Join(dir, "config.json")
	raw, _ := os.ReadFile(cfgPath)
	var spec specs.Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return 0, err
	}
	spec.Process.Terminal = false
	spec.Process.Args = []string{"/bench", "loop", op, strconv.Itoa(n)}
	spec.Linux.Seccomp = sc
	raw, _ = json.Marshal(&spec)
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		return 0, err
	}
	state := filepath.Join(dir, "state")
	args := append([]string{"--root", state}, extra...)
	args = append(args, "run", "--bundle", dir, "tbx-bench-"+strconv.Itoa(os.Getpid()))
	out, err := exec.Command(runtimeBin, args...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s run: %v: %s", runtimeBin, err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return 0, fmt.Errorf("%s run printed nothing", runtimeBin)
	}
	return strconv.ParseFloat(lines[len(lines)-1], 64)
}
