package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e6) }

func mib(kib int64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }

// table writes the Markdown table, one row per runtime in the order run.
func table(w io.Writer, sums []summary) {
	var base time.Duration
	for _, s := range sums {
		if s.name == "runc" {
			base = s.median
		}
	}
	fmt.Fprintln(w, "| runtime | median ms | p90 ms | min ms | x runc (medians) | x runc (paired) | CPU ms (median) | peak RSS MiB median (max) | failed/runs |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sums {
		ratio := "-"
		if base > 0 && s.median > 0 {
			ratio = fmt.Sprintf("%.2f", float64(s.median)/float64(base))
		}
		paired := "-"
		if s.pairedRatio > 0 {
			paired = fmt.Sprintf("%.2f", s.pairedRatio)
		}
		if s.runs == s.failed {
			fmt.Fprintf(w, "| %s | - | - | - | - | - | - | - | %d/%d |\n", s.name, s.failed, s.runs)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s (%s) | %d/%d |\n", s.name, ms(s.median), ms(s.p90), ms(s.min),
			ratio, paired, ms(s.cpuMedian), mib(s.rssMedian), mib(s.rssMax), s.failed, s.runs)
	}
}

// machine describes the host in one line: CPUs, kernel, CPU model, load.
func machine() string {
	var u unix.Utsname
	unix.Uname(&u)
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs, Linux %s, %s, load average %s", runtime.NumCPU(),
		string(bytes.TrimRight(u.Release[:], "\x00")), model, loadavg())
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
