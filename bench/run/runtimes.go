package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// runtimeDef is one row of the table: how to run /bin/true once and how to
// clean up after a failed run.
type runtimeDef struct {
	name string
	// argv for one run of container id.
	argv func(id string) []string
	// cleanup removes what a failed run of id may have left (nil: nothing to do).
	cleanup func(id string) []string
	// hideV2 runs it in the mount namespace without /sys/fs/cgroup/unified.
	hideV2 bool
}

type setup struct {
	trustbox, runc, crun, runsc, unshare string
	runscFlags                           []string
	tbBundle, ociBundle, stateDir        string
}

// ociRuntime is a runc-compatible CLI: ROOTFLAGS run --bundle B ID, delete --force ID.
func ociRuntime(name, bin string, global []string, bundle string, hideV2 bool) runtimeDef {
	g := append([]string{bin}, global...)
	return runtimeDef{
		name:    name,
		hideV2:  hideV2,
		argv:    func(id string) []string { return append(append([]string{}, g...), "run", "--bundle", bundle, id) },
		cleanup: func(id string) []string { return append(append([]string{}, g...), "delete", "--force", id) },
	}
}

// runtimes lists the rows asked for, in the order given.
func runtimes(s setup, names []string) ([]runtimeDef, error) {
	var out []runtimeDef
	for _, n := range names {
		root := filepath.Join(s.stateDir, n)
		switch n {
		case "trustbox":
			out = append(out, ociRuntime(n, s.trustbox, []string{"--root", root}, s.tbBundle, false))
		case "runc":
			out = append(out, ociRuntime(n, s.runc, []string{"--root", root}, s.ociBundle, true))
		case "crun":
			out = append(out, ociRuntime(n, s.crun, []string{"--root", root}, s.ociBundle, true))
		case "runsc":
			out = append(out, ociRuntime(n, s.runsc, append([]string{"--root", root}, s.runscFlags...), s.ociBundle, false))
		case "unshare":
			// The floor: five new namespaces (mount, uts, ipc, net, pid) and exec of /bin/true.
			argv := []string{s.unshare, "--mount", "--uts", "--ipc", "--net", "--pid", "--fork", "/bin/true"}
			out = append(out, runtimeDef{name: "unshare (5 ns)", argv: func(string) []string { return argv }})
		case "unshare7":
			// As above plus the user (root mapped) and cgroup namespaces trustbox's default spec also asks for.
			argv := []string{s.unshare, "--mount", "--uts", "--ipc", "--net", "--pid", "--fork", "--user", "--map-root-user", "--cgroup", "/bin/true"}
			out = append(out, runtimeDef{name: "unshare (7 ns)", argv: func(string) []string { return argv }})
		default:
			return nil, fmt.Errorf("unknown runtime %q (trustbox, runc, crun, runsc, unshare, unshare7)", n)
		}
	}
	return out, nil
}

// lookBin resolves a binary given by path or name.
func lookBin(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty binary path")
	}
	if strings.Contains(p, "/") {
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return filepath.Abs(p)
	}
	return exec.LookPath(p)
}

// dropPageCache asks the kernel to drop a file's clean cached pages
// (POSIX_FADV_DONTNEED): the next exec reads it back through readahead.
func dropPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
