package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// runner times runs of the runtimes, starting processes on the hidden-v2
// namespace thread when a runtime needs it.
type runner struct {
	ns     *nsThread // cgroup2 hidden, for runc and crun
	host   *nsThread // nil: this program's own mount namespace (else a private one with a tmpfs state dir)
	devnul *os.File
	errlog *os.File // stderr of the last run, kept for failure reports
	// spawn is the small static launcher (spawn/spawn.c) that forks, times
	// and reports each run, so ru_maxrss is the runtime's own; "" times
	// straight from Go (then every peak RSS is at least this harness's).
	spawn  string
	result *os.File // the launcher's report (its fd 3)
	log    func(string)
}

func rewind(f *os.File) {
	if err := f.Truncate(0); err == nil {
		f.Seek(0, 0)
	}
}

// once runs argv and returns its wall time and wait4 rusage.
func (r *runner) once(rt runtimeDef, argv []string) sample {
	var s sample
	run := func() {
		rewind(r.errlog)
		if r.spawn != "" {
			rewind(r.result)
			argv = append([]string{r.spawn}, argv...)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = r.devnul, r.devnul, r.errlog
		if r.spawn != "" {
			cmd.ExtraFiles = []*os.File{r.result}
		}
		t0 := time.Now()
		err := cmd.Start()
		if err == nil {
			err = cmd.Wait()
		}
		s.wall = time.Since(t0)
		s.ok = err == nil
		if r.spawn != "" {
			s.ok = s.ok && r.readResult(&s)
			return
		}
		if cmd.ProcessState != nil {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				s.maxRSS = ru.Maxrss
				s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
		}
	}
	r.in(rt, run)
	return s
}

// in runs f in the mount namespace rt runs in.
func (r *runner) in(rt runtimeDef, f func()) {
	switch {
	case rt.hideV2:
		r.ns.do(f)
	case r.host != nil:
		r.host.do(f)
	default:
		f()
	}
}

// readResult parses the launcher's "wall user sys maxrss status" line.
func (r *runner) readResult(s *sample) bool {
	b, err := os.ReadFile(r.result.Name())
	if err != nil {
		return false
	}
	var wall, user, sys, rss int64
	var status int
	if _, err := fmt.Sscan(string(b), &wall, &user, &sys, &rss, &status); err != nil {
		return false
	}
	s.wall, s.cpu, s.maxRSS = time.Duration(wall), time.Duration(user+sys), rss
	return syscall.WaitStatus(status).Exited() && syscall.WaitStatus(status).ExitStatus() == 0
}

func (r *runner) lastStderr() string {
	b, _ := os.ReadFile(r.errlog.Name())
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	return string(b)
}

// cleanup runs a runtime's forced delete for a container a failed run may have left.
func (r *runner) cleanup(rt runtimeDef, id string) {
	if rt.cleanup == nil {
		return
	}
	r.once(runtimeDef{hideV2: rt.hideV2}, rt.cleanup(id))
}

// measure runs warmup then n rounds; each round runs every runtime once, in
// an order shuffled afresh (from seed), so that no runtime always follows
// the same neighbour: a run's leftovers (a network namespace the kernel
// tears down in a worker, a sandbox's exiting processes) slow whatever runs
// next, and a fixed or merely rotated order hands them to the same runtime
// every time. A gap > 0 idles before each run: back to back, one runtime's cgroup attach
// finds the kernel's cgroup_threadgroup_rwsem still in its fast state from
// the previous runtime's (for tens of ms), which hides the RCU grace period
// an isolated `run` pays on a v1 host (bench/README.md).
func (r *runner) measure(ctx context.Context, rts []runtimeDef, n, warmup int, gap time.Duration, seed uint64) map[string][]sample {
	out := map[string][]sample{}
	failures := map[string]int{}
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := -warmup; i < n; i++ {
		order := rng.Perm(len(rts))
		for _, k := range order {
			if ctx.Err() != nil {
				return out
			}
			rt := rts[k]
			id := fmt.Sprintf("bench-%d-%d", os.Getpid(), i+warmup)
			if gap > 0 {
				time.Sleep(gap) // idle time between runs, not a wait for a condition
			}
			s := r.once(rt, rt.argv(id))
			if !s.ok {
				if failures[rt.name]++; failures[rt.name] <= 3 {
					r.log(fmt.Sprintf("%s run %d failed: %s", rt.name, i, r.lastStderr()))
				}
				r.cleanup(rt, id)
			}
			if i >= 0 {
				out[rt.name] = append(out[rt.name], s)
			}
		}
		if i >= 0 && (i+1)%50 == 0 {
			r.log(fmt.Sprintf("%d/%d rounds", i+1, n))
		}
	}
	return out
}
