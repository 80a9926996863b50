package main

import (
	"sort"
	"time"
)

// sample is one timed `run` of one runtime.
type sample struct {
	wall   time.Duration
	cpu    time.Duration // user+sys of the runtime and every child it reaped
	maxRSS int64         // KiB: wait4's ru_maxrss, the largest single process in that tree
	ok     bool
}

// summary is what the table shows for one runtime.
type summary struct {
	name              string
	runs, failed      int
	median, p90, min  time.Duration
	cpuMedian         time.Duration
	rssMedian, rssMax int64
	// pairedRatio is the median over rounds of wall/base wall in the same
	// round (0 without a base): steadier than a ratio of medians when the
	// machine's load drifts during the run.
	pairedRatio float64
}

// pairedRatio returns the median of ss[i].wall/base[i].wall over rounds
// where both runs succeeded.
func pairedRatio(ss, base []sample) float64 {
	var r []float64
	for i := range min(len(ss), len(base)) {
		if ss[i].ok && base[i].ok && base[i].wall > 0 {
			r = append(r, float64(ss[i].wall)/float64(base[i].wall))
		}
	}
	if len(r) == 0 {
		return 0
	}
	sort.Float64s(r)
	if n := len(r); n%2 == 0 {
		return (r[n/2-1] + r[n/2]) / 2
	}
	return r[len(r)/2]
}

func summarize(name string, ss []sample) summary {
	s := summary{name: name, runs: len(ss)}
	var wall, cpu []time.Duration
	var rss []int64
	for _, x := range ss {
		if !x.ok {
			s.failed++
			continue
		}
		wall = append(wall, x.wall)
		cpu = append(cpu, x.cpu)
		rss = append(rss, x.maxRSS)
	}
	if len(wall) == 0 {
		return s
	}
	sort.Slice(wall, func(i, j int) bool { return wall[i] < wall[j] })
	sort.Slice(cpu, func(i, j int) bool { return cpu[i] < cpu[j] })
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	s.median, s.p90, s.min = quantile(wall, 0.5), quantile(wall, 0.9), wall[0]
	s.cpuMedian = quantile(cpu, 0.5)
	s.rssMedian, s.rssMax = quantile(rss, 0.5), rss[len(rss)-1]
	return s
}

// quantile of a sorted slice: the median interpolates between the two middle
// values of an even count; other quantiles use the nearest rank.
func quantile[T time.Duration | int64](sorted []T, q float64) T {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if q == 0.5 && n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	if q == 0.5 {
		return sorted[n/2]
	}
	rank := int(q*float64(n)+0.999999) - 1 // ceil(q*n)-1
	return sorted[max(0, min(rank, n-1))]
}
