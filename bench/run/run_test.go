package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	d := func(ms ...int) []time.Duration {
		var out []time.Duration
		for _, m := range ms {
			out = append(out, time.Duration(m)*time.Millisecond)
		}
		return out
	}
	for _, c := range []struct {
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{d(1, 2, 3), 0.5, 2 * time.Millisecond},
		{d(1, 2, 3, 4), 0.5, 2500 * time.Microsecond},
		{d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Millisecond},
		{d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 0.9, 10 * time.Millisecond},
		{d(7), 0.9, 7 * time.Millisecond},
		{nil, 0.5, 0},
	} {
		if got := quantile(c.in, c.q); got != c.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.in, c.q, got, c.want)
		}
	}
}

func TestSummarizeSkipsFailures(t *testing.T) {
	s := summarize("x", []sample{
		{wall: 3 * time.Millisecond, maxRSS: 300, ok: true},
		{wall: time.Second, maxRSS: 9000, ok: false},
		{wall: 1 * time.Millisecond, maxRSS: 100, ok: true},
		{wall: 2 * time.Millisecond, maxRSS: 200, ok: true},
	})
	if s.runs != 4 || s.failed != 1 || s.median != 2*time.Millisecond || s.min != time.Millisecond || s.rssMax != 300 {
		t.Errorf("summary = %+v", s)
	}
}

func TestPairedRatio(t *testing.T) {
	ms := func(d int) time.Duration { return time.Duration(d) * time.Millisecond }
	a := []sample{{wall: ms(20), ok: true}, {wall: ms(60), ok: true}, {wall: ms(10), ok: false}}
	b := []sample{{wall: ms(10), ok: true}, {wall: ms(20), ok: true}, {wall: ms(10), ok: true}}
	if got := pairedRatio(a, b); got != 2.5 { // rounds 0 and 1: 2 and 3
		t.Errorf("pairedRatio = %v, want 2.5", got)
	}
	if got := pairedRatio(nil, b); got != 0 {
		t.Errorf("pairedRatio(nil) = %v, want 0", got)
	}
}

func TestWorldSearchable(t *testing.T) {
	dir := t.TempDir() // 0700
	if err := worldSearchable(dir); err == nil {
		t.Errorf("%s (0700) reported world-searchable", dir)
	}
	if err := worldSearchable("/"); err != nil {
		t.Error(err)
	}
}

// BenchmarkRunTrue runs `RUNTIME run` of /bin/true through each installed
// runtime, one after another (bench/run/run.sh interleaves them and is what
// bench/README.md reports). trustbox is built from this tree unless
// TRUSTBOX names a binary.
//
//	go test -bench RunTrue -benchtime 50x ./bench/run
func BenchmarkRunTrue(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: creates containers, namespaces and cgroups")
	}
	dir, err := os.MkdirTemp("/tmp", "bench-run-test-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	s := setup{trustbox: os.Getenv("TRUSTBOX"), runc: "/usr/sbin/runc", crun: "/usr/bin/crun",
		runsc: "/usr/bin/runsc", unshare: "/usr/bin/unshare", runscFlags: []string{"--network=none"},
		tbBundle: filepath.Join(dir, "tb"), ociBundle: filepath.Join(dir, "oci"), stateDir: filepath.Join(dir, "state")}
	if s.trustbox == "" {
		s.trustbox = filepath.Join(dir, "trustbox")
		if out, err := exec.Command("go", "build", "-trimpath", "-o", s.trustbox, "../../cmd/trustbox").CombinedOutput(); err != nil {
			b.Fatalf("build trustbox: %v\n%s", err, out)
		}
	}
	spawn := filepath.Join(dir, "spawn")
	if err := exec.Command("gcc", "-O2", "-static", "-o", spawn, "spawn/spawn.c").Run(); err != nil {
		b.Logf("no spawn launcher (gcc: %v): peak RSS includes the test binary's", err)
		spawn = ""
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := worldSearchable(dir); err != nil {
		b.Skip(err)
	}
	if err := makeRootfs(rootfs, "/bin/busybox"); err != nil {
		b.Skip("no busybox-static rootfs: ", err)
	}
	if err := makeBundle(s.tbBundle, []string{s.trustbox}, rootfs); err != nil {
		b.Fatal(err)
	}
	haveOCI := makeBundle(s.ociBundle, []string{s.runc}, rootfs) == nil
	ns, err := newNSThread("/sys/fs/cgroup/unified", "")
	if err != nil {
		b.Fatal(err)
	}
	defer ns.close()
	devnull, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	defer devnull.Close()
	errlog, _ := os.Create(filepath.Join(dir, "stderr"))
	defer errlog.Close()
	r := &runner{ns: ns, devnul: devnull, errlog: errlog, spawn: spawn, log: func(m string) { b.Log(m) }}
	if spawn != "" {
		r.result, _ = os.Create(filepath.Join(dir, "spawn.out"))
		defer r.result.Close()
	}
	rts, _ := runtimes(s, []string{"trustbox", "runc", "crun", "runsc", "unshare"})
	for _, rt := range rts {
		b.Run(rt.name, func(b *testing.B) {
			if rt.name != "trustbox" && rt.cleanup != nil && (!haveOCI || !exists(rt.argv("")[0])) {
				b.Skip("not installed")
			}
			var rss int64
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("bench-%d-%d", os.Getpid(), i)
				smp := r.once(rt, rt.argv(id))
				if !smp.ok {
					r.cleanup(rt, id)
					b.Fatalf("%s run failed: %s", rt.name, r.lastStderr())
				}
				rss = max(rss, smp.maxRSS)
			}
			b.ReportMetric(float64(rss), "peak-RSS-KiB")
		})
	}
	leftovers(r, rts, s.stateDir, func(m string) { b.Log(m) })
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
