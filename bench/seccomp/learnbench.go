package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/trustbox/trustbox/internal/seccomp"
)

// wall runs f three times and returns the median wall time.
func wall(f func() error) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t0))
	}
	if ds[0] > ds[1] {
		ds[0], ds[1] = ds[1], ds[0]
	}
	if ds[1] > ds[2] {
		ds[1], ds[2] = ds[2], ds[1]
	}
	if ds[0] > ds[1] {
		ds[0], ds[1] = ds[1], ds[0]
	}
	return ds[1], nil
}

// learningRows measures `find / -xdev` plainly, in learning mode from the
// minimal base (every unseen call trapped, every time), re-recorded with
// the first run's profile as base (only calls not yet seen trapped), and
// under strace -f -c.
func learningRows(w io.Writer) error {
	argv := []string{"find", "/", "-xdev"}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	run := func(a ...string) func() error {
		return func() error {
			c := exec.Command(a[0], a[1:]...)
			c.Stdout = null
			c.Stderr = null
			_ = c.Run() // find exits 1 on unreadable entries
			return nil
		}
	}
	minimal, _ := seccomp.Builtin("minimal")
	first := seccomp.NewRecording()
	record := func(base *seccomp.Profile, rec **seccomp.Recording) func() error {
		return func() error {
			*rec = seccomp.NewRecording()
			_, err := seccomp.RecordCommand(argv, base, seccomp.Options{}, *rec, nil, null, null)
			return err
		}
	}
	plain, err := wall(run(argv...))
	if err != nil {
		return err
	}
	cold, err := wall(record(minimal, &first))
	if err != nil {
		return err
	}
	learned := first.Profile(minimal)
	var second *seccomp.Recording
	warm, err := wall(record(learned, &second))
	if err != nil {
		return err
	}
	def, _ := seccomp.Builtin("default")
	var third *seccomp.Recording
	withDefault, err := wall(record(def, &third))
	if err != nil {
		return err
	}
	traps := total(first)
	fmt.Fprintf(w, "| plain `find / -xdev` | %v | 1.00x | - |\n", plain.Round(time.Millisecond))
	fmt.Fprintf(w, "| learning, base minimal (first run) | %v | %.2fx | %d traps, %d distinct calls |\n", cold.Round(time.Millisecond), float64(cold)/float64(plain), traps, len(first.Calls()))
	fmt.Fprintf(w, "| learning, base = first recording | %v | %.2fx | %d traps |\n", warm.Round(time.Millisecond), float64(warm)/float64(plain), total(second))
	fmt.Fprintf(w, "| learning, base default (a superset, not minimal) | %v | %.2fx | %d traps |\n", withDefault.Round(time.Millisecond), float64(withDefault)/float64(plain), total(third))
	if _, err := exec.LookPath("strace"); err == nil {
		st, err := wall(run(append([]string{"strace", "-f", "-c", "-o", os.DevNull}, argv...)...))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "| strace -f -c (ptrace) | %v | %.2fx | - |\n", st.Round(time.Millisecond), float64(st)/float64(plain))
	}
	return nil
}

func total(r *seccomp.Recording) int {
	n := 0
	for _, c := range r.Calls() {
		n += c
	}
	return n
}
