package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
	onlyContainers := flag.Bool("containers", false, "only the container rows")
	ab := flag.Int("ab", 0, "only compare trustbox default with the allow-all floor over this many alternating pairs")
	trustboxBin = flag.String("trustbox", "", "a trustbox binary whose runtime compiles seccomp (adds trustbox container rows)")
	flag.Parse()
	only = *onlyContainers
	if *ab > 0 {
		def, _ := seccomp.Builtin("default")
		prog, err := seccomp.Compile(def, seccomp.Options{})
		if err == nil {
			floor := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0x7fff0000}}
			fmt.Println("| call | floor | trustbox default | difference |")
			fmt.Println("|---|---|---|---|")
			for _, op := range []string{"getppid", "orc"} {
				m := *n
				if op == "orc" {
					m /= 10
				}
				if err = abRows(os.Stdout, [2]string{"allow-all", "default"}, [2][]unix.SockFilter{floor, prog.Filter}, op, m, *ab); err != nil {
					break
				}
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
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

var (
	trustboxBin *string
	only        bool // containers only
)

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
	fmt.Fprintf(w, "\n### ns per call on this machine (best of 3 interleaved passes, each the median of 5 rounds of %d)\n", n)
	fmt.Fprintln(w, "| where | filter | getppid | open+read+close |")
	fmt.Fprintln(w, "|---|---|---|---|")
	configs := []struct {
		name string
		prog []unix.SockFilter
	}{
		{"none", nil}, {"allow-all (1 instruction, the floor)", allowAll},
		{"trustbox default", tbDefault.Filter}, {"Docker profile, trustbox", ours.Filter},
		{"Docker profile, libseccomp default", libDefault}, {"Docker profile, libseccomp tree", libTree},
	}
	best := make([][2]float64, len(configs))
	passes := 3
	if only {
		configs, passes = nil, 0
	}
	for pass := 0; pass < passes; pass++ {
		for i, c := range configs {
			g, err := timeFilter(c.prog, "getppid", n)
			if err != nil {
				return err
			}
			o, err := timeFilter(c.prog, "orc", n/10)
			if err != nil {
				return err
			}
			if pass == 0 || g < best[i][0] {
				best[i][0] = g
			}
			if pass == 0 || o < best[i][1] {
				best[i][1] = o
			}
		}
	}
	for i, c := range configs {
		fmt.Fprintf(w, "| process | %s | %.1f | %.1f |\n", c.name, best[i][0], best[i][1])
	}
	if containers {
		sc, err := docker.ToOCI(seccomp.Env{Caps: []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}})
		if err != nil {
			return err
		}
		allowAllOCI := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
		type row struct {
			name, bin, filter string
			sc                *specs.LinuxSeccomp
			extra             []string
		}
		rows := []row{
			{"runc 1.1", "runc", "none", nil, nil},
			{"runc 1.1", "runc", "allow-all (the floor)", allowAllOCI, nil},
			{"runc 1.1 (libseccomp)", "runc", "Docker profile", sc, nil},
		}
		if *trustboxBin != "" {
			rows = append(rows, row{"trustbox", *trustboxBin, "trustbox default", nil, nil},
				row{"trustbox", *trustboxBin, "Docker profile + blacklist", sc, nil})
		}
		rows = append(rows, row{"gVisor runsc", "runsc", "Docker profile", sc, []string{"--network=none"}})
		res := make([][2]float64, len(rows))
		errs := make([]error, len(rows))
		for pass := 0; pass < 3; pass++ {
			for i, c := range rows {
				iters := n
				if c.bin == "runsc" {
					iters = n / 20 // every call is served by gVisor's sentry
				}
				g, err := inContainer(c.bin, c.extra, c.sc, "getppid", iters)
				if err == nil {
					var o float64
					if o, err = inContainer(c.bin, c.extra, c.sc, "orc", iters/10); err == nil {
						if pass == 0 || g < res[i][0] {
							res[i][0] = g
						}
						if pass == 0 || o < res[i][1] {
							res[i][1] = o
						}
					}
				}
				if err != nil {
					errs[i] = err
				}
			}
		}
		for i, c := range rows {
			if errs[i] != nil {
				fmt.Fprintf(w, "| container, %s | %s | error: %v | |\n", c.name, c.filter, errs[i])
				continue
			}
			fmt.Fprintf(w, "| container, %s | %s | %.1f | %.1f |\n", c.name, c.filter, res[i][0], res[i][1])
		}
	}
	if only {
		return nil
	}
	fmt.Fprintln(w, "\n### Learning mode")
	fmt.Fprintln(w, "| run | wall (median of 3) | vs plain | notes |")
	fmt.Fprintln(w, "|---|---|---|---|")
	return learningRows(w)
}
