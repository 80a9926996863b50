package main

import (
	"fmt"
	"io"
	"sort"

	"golang.org/x/sys/unix"
)

// abRows alternates two filters pair by pair (A B A B ...) so that load
// from other work on the machine hits both alike, and reports the median
// of the per-pair ratios.
func abRows(w io.Writer, names [2]string, progs [2][]unix.SockFilter, op string, n, pairs int) error {
	var ratios []float64
	var a, b []float64
	for i := 0; i < pairs; i++ {
		x, err := timeFilter(progs[0], op, n)
		if err != nil {
			return err
		}
		y, err := timeFilter(progs[1], op, n)
		if err != nil {
			return err
		}
		a, b = append(a, x), append(b, y)
		ratios = append(ratios, y/x)
	}
	sort.Float64s(ratios)
	sort.Float64s(a)
	sort.Float64s(b)
	fmt.Fprintf(w, "| %s | %s %.1f ns | %s %.1f ns | %+.1f%% (median of %d pairs; middle half %+.1f%% .. %+.1f%%) |\n", op,
		names[0], a[len(a)/2], names[1], b[len(b)/2], 100*(ratios[len(ratios)/2]-1), pairs,
		100*(ratios[len(ratios)/4]-1), 100*(ratios[3*len(ratios)/4]-1))
	return nil
}
