package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/run:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	var s setup
	n := flag.Int("n", 200, "measured rounds (each runs every runtime once)")
	warmup := flag.Int("warmup", 3, "unmeasured rounds first")
	names := flag.String("runtimes", "trustbox,runc,crun,runsc,unshare", "rows, in order: trustbox, runc, crun, runsc, unshare, unshare7")
	flag.StringVar(&s.trustbox, "trustbox", "trustbox", "trustbox binary")
	flag.StringVar(&s.runc, "runc", "/usr/sbin/runc", "runc binary")
	flag.StringVar(&s.crun, "crun", "/usr/bin/crun", "crun binary")
	flag.StringVar(&s.runsc, "runsc", "/usr/bin/runsc", "runsc binary")
	flag.StringVar(&s.unshare, "unshare", "/usr/bin/unshare", "unshare binary (the floor)")
	runscFlags := flag.String("runsc-flags", "--network=none", "runsc global flags besides --root (space-separated)")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox for the rootfs")
	work := flag.String("work", "", "work directory (default: a new one under /tmp, removed at exit)")
	unified := flag.String("unified", "/sys/fs/cgroup/unified", "cgroup2 mount hidden from runc and crun")
	csvOut := flag.String("csv", "", "also write every sample to this CSV file")
	stateTmpfs := flag.Bool("state-tmpfs", false, "keep every runtime's state root on a tmpfs (each runs in a private mount namespace; default: the work dir's filesystem)")
	spawn := flag.String("spawn", "", "launcher built from spawn/spawn.c (without it, peak RSS includes this harness's ~3 MiB)")
	evict := flag.Bool("evict", true, "drop each runtime binary's page cache before measuring (see dropPageCache)")
	seed := flag.Uint64("seed", 1, "seed of each round's shuffled order (printed with the results)")
	gap := flag.Duration("gap", 0, "idle time before each run (e.g. 200ms: every run is an isolated start, as on a quiet host)")
	flag.Parse()
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (containers, namespaces, cgroups)")
	}
	s.runscFlags = strings.Fields(*runscFlags)
	rows := strings.Split(*names, ",")
	for _, b := range []*string{&s.trustbox, &s.runc, &s.crun, &s.runsc, &s.unshare} {
		if p, err := lookBin(*b); err == nil {
			*b = p
		}
	}

	dir := *work
	if dir == "" {
		d, err := os.MkdirTemp("/tmp", "bench-run-")
		if err != nil {
			return err
		}
		dir = d
		defer os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // MkdirTemp makes it 0700
		return err
	}
	if err := worldSearchable(dir); err != nil {
		return err
	}
	rootfs := filepath.Join(dir, "rootfs")
	s.tbBundle, s.ociBundle, s.stateDir = filepath.Join(dir, "trustbox-bundle"), filepath.Join(dir, "oci-bundle"), filepath.Join(dir, "state")
	if err := makeRootfs(rootfs, *busybox); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	for _, r := range rows {
		switch r {
		case "trustbox":
			if err := makeBundle(s.tbBundle, []string{s.trustbox}, rootfs); err != nil {
				return err
			}
		case "runc", "crun", "runsc":
			if err := makeBundle(s.ociBundle, []string{s.runc}, rootfs); err != nil {
				return err
			}
		}
	}
	rts, err := runtimes(s, rows)
	if err != nil {
		return err
	}
	if *evict {
		// A binary just written (go build, cp) sits in the page cache in
		// large folios, which a fault maps whole: the same trustbox measured
		// 11.0 MiB peak RSS fresh from the compiler and 8.7 MiB once read
		// back from disk. Dropping every runtime's cached pages first loads
		// each the way an installed binary is loaded after boot.
		bins := []string{s.trustbox, s.runc, s.crun, s.runsc, s.unshare}
		if small := filepath.Join(filepath.Dir(s.trustbox), "trustbox-init"); fileExists(small) {
			bins = append(bins, small) // the container init trustbox execs (ADR 0006)
		}
		for _, b := range bins {
			if err := dropPageCache(b); err != nil {
				fmt.Fprintf(os.Stderr, "evict %s: %v\n", b, err)
			}
		}
	}

	if err := os.MkdirAll(s.stateDir, 0o711); err != nil {
		return err
	}
	tmpfs := ""
	if *stateTmpfs {
		tmpfs = s.stateDir
	}
	ns, err := newNSThread(*unified, tmpfs)
	if err != nil {
		return err
	}
	defer ns.close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	errlog, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return err
	}
	defer errlog.Close()
	logf := func(m string) { fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().UTC().Format("15:04:05"), m) }
	r := &runner{ns: ns, devnul: devnull, errlog: errlog, log: logf}
	if *stateTmpfs {
		if r.host, err = newNSThread("", tmpfs); err != nil {
			return err
		}
		defer r.host.close()
	}
	if *spawn != "" {
		if r.spawn, err = lookBin(*spawn); err != nil {
			return fmt.Errorf("-spawn: %w", err)
		}
		if r.result, err = os.Create(filepath.Join(dir, "spawn.out")); err != nil {
			return err
		}
		defer r.result.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer stop()
	before := machine()
	start := time.Now().UTC()
	logf(fmt.Sprintf("%d rounds of %s, work dir %s", *n, *names, dir))
	samples := r.measure(ctx, rts, *n, *warmup, *gap, *seed)
	elapsed := time.Since(start).Round(time.Second)
	after := loadavg()
	leftovers(r, rts, s.stateDir, logf)

	var sums []summary
	for _, rt := range rts {
		sum := summarize(rt.name, samples[rt.name])
		if base, ok := samples["runc"]; ok {
			sum.pairedRatio = pairedRatio(samples[rt.name], base)
		}
		sums = append(sums, sum)
	}
	where := "state roots on " + fsType(s.stateDir)
	if *stateTmpfs {
		where = "state roots on tmpfs (private mount namespaces)"
	}
	timer := "timed by the spawn launcher (fork, execv, wait4)"
	if r.spawn == "" {
		timer = "timed from Go (peak RSS includes the harness's own)"
	}
	spacing := "back to back"
	if *gap > 0 {
		spacing = fmt.Sprintf("%s idle before each run", *gap)
	}
	fmt.Printf("%s UTC, %d rounds (+%d warmup) interleaved in a shuffled order (seed %d), %s, %s, %s, %s; %s; load average after: %s\n\n",
		start.Format("2006-01-02 15:04"), *n, *warmup, *seed, spacing, elapsed, timer, where, before, after)
	table(os.Stdout, sums)
	fmt.Println()
	for _, rt := range rts {
		fmt.Printf("- %s: `%s`%s\n", rt.name, strings.Join(rt.argv("ID"), " "),
			map[bool]string{true: " (in a private mount namespace without " + *unified + ")"}[rt.hideV2])
	}
	if *csvOut != "" {
		if err := writeCSV(*csvOut, rts, samples); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}
	return nil
}

// leftovers force-deletes any container a runtime still lists in its state root.
func leftovers(r *runner, rts []runtimeDef, stateDir string, logf func(string)) {
	for _, rt := range rts {
		if rt.cleanup == nil {
			continue
		}
		var ents []os.DirEntry
		r.in(rt, func() { ents, _ = os.ReadDir(filepath.Join(stateDir, rt.name)) })
		for _, e := range ents {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), "bench-") {
				continue
			}
			logf(fmt.Sprintf("%s left container %s behind: deleting it", rt.name, e.Name()))
			r.cleanup(rt, e.Name())
		}
	}
}

func writeCSV(path string, rts []runtimeDef, samples map[string][]sample) error {
	var b strings.Builder
	b.WriteString("runtime,round,wall_us,cpu_us,maxrss_kib,ok\n")
	for _, rt := range rts {
		for i, s := range samples[rt.name] {
			fmt.Fprintf(&b, "%s,%d,%d,%d,%d,%t\n", rt.name, i, s.wall.Microseconds(), s.cpu.Microseconds(), s.maxRSS, s.ok)
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// fsType names the filesystem holding dir (ext4, tmpfs, ...).
func fsType(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "?"
	}
	switch st.Type {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	}
	return fmt.Sprintf("fs 0x%x", st.Type)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
