package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/seccomp"
)

func main() {
	seccomp.MaybeLearnChild()
	if f := os.Getenv(childEnv); f != "" {
		n, _ := strconv.Atoi(os.Getenv("TBX_BENCH_N"))
		childMain(f, os.Getenv("TBX_BENCH_OP"), n)
	}
	if len(os.Args) == 4 && os.Args[1] == "loop" { // inside a container
		n, _ := strconv.Atoi(os.Args[3])
		fmt.Printf("%.1f\n", loop(os.Args[2], n))
		return
	}
	repo := flag.String("repo", ".", "repository root")
	n := flag.Int("n", 1000000, "iterations per timing round")
	skipContainers := flag.Bool("no-containers", false, "skip the runc and runsc rows")
	onlyLearning := flag.Bool("learning", false, "only the learning-mode rows")
	flag.Parse()
	if *onlyLearning {
		if err := learningRows(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Stdout, *repo, *n, !*skipContainers); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, repo string, n int, containers bool) error {
	docker, err := seccomp.Load(filepath.Join(repo, "internal/seccomp/testdata/docker-default.json"))
	if err != nil {
		return err
	}
	env := seccomp.Env{Arch: "SCMP_ARCH_X86_64"}
	arches := []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}
	ours, err := seccomp.Compile(docker, seccomp.Options{Env: env, Ptrace: seccomp.PtraceAllow})
	if err != nil {
		return err
	}
	libDefault, err := libseccompProgram(repo, docker, env, 1)
	if err != nil {
		return err
	}
	libTree, err := libseccompProgram(repo, docker, env, 2)
	if err != nil {
		return err
	}
	def, _ := seccomp.Builtin("default")
	tbDefault, err := seccomp.Compile(def, seccomp.Options{Env: env})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "### Executed BPF instructions per call (x86_64 + x86 + x32, every call number in trustbox's tables)")
	fmt.Fprintln(w, "| filter | size | mean (allowed) | max (allowed) | mean (all) | max (all) | cacheable arg-free ALLOWs |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, c := range []struct {
		name string
		prog []unix.SockFilter
	}{
		{"Docker profile, trustbox", ours.Filter},
		{"Docker profile, libseccomp 2.5.4 default", libDefault},
		{"Docker profile, libseccomp 2.5.4 binary tree", libTree},
		{"trustbox default", tbDefault.Filter},
	} {
		s, err := measure(c.prog, arches)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Fprintln(w, s.row(c.name, len(c.prog)))
	}
	allowAll := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0x7fff0000}}
	fmt.Fprintf(w, "\n### ns per call on this machine (median of 5 rounds of %d)\n", n)
	fmt.Fprintln(w, "| where | filter | getppid | open+read+close |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, c := range []struct {
		name string
		prog []unix.SockFilter
	}{
		{"none", nil}, {"allow-all (1 instruction, the floor)", allowAll},
		{"trustbox default", tbDefault.Filter}, {"Docker profile, trustbox", ours.Filter},
		{"Docker profile, libseccomp default", libDefault}, {"Docker profile, libseccomp tree", libTree},
	} {
		g, err := timeFilter(c.prog, "getppid", n)
		if err != nil {
			return err
		}
		o, err := timeFilter(c.prog, "orc", n/10)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| process | %s | %.1f | %.1f |\n", c.name, g, o)
	}
	if containers {
		sc, err := docker.ToOCI(seccomp.Env{Caps: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}})
		if err != nil {
			return err
		}
		for _, c := range []struct {
			name, bin string
			extra     []string
		}{{"runc 1.1 (libseccomp)", "runc", nil}, {"gVisor runsc", "runsc", []string{"--network=none"}}} {
			g, err := inContainer(c.bin, c.extra, sc, "getppid", n)
			if err != nil {
				fmt.Fprintf(w, "| %s | Docker profile | error: %v | |\n", c.name, err)
				continue
			}
			o, err := inContainer(c.bin, c.extra, sc, "orc", n/10)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "| container, %s | Docker profile | %.1f | %.1f |\n", c.name, g, o)
		}
	}
	fmt.Fprintln(w, "\n### Learning mode")
	fmt.Fprintln(w, "| run | wall (median of 3) | vs plain | notes |")
	fmt.Fprintln(w, "|---|---|---|---|")
	return learningRows(w)
}
