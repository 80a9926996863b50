package seccomp

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
)

// leaf is a run of consecutive call numbers that end in the same outcome.
type leaf struct {
	lo, hi uint32
	conds  []condRule
	fb     Action
	weight int64 // known call numbers in the run: what dispatch is optimised for
}

func (l *leaf) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|", l.fb.Ret())
	for _, c := range l.conds {
		fmt.Fprintf(&b, "%d:%v;", c.action.Ret(), c.args)
	}
	return b.String()
}

// section is what one seccomp_data.arch value dispatches to; x86_64 and
// x32 share AUDIT_ARCH_X86_64 and are told apart by the x32 bit.
type section struct {
	audit  uint32
	arches []archPlan
}

// leaves partitions the whole 32-bit call-number space of a section into runs.
func (s *section) leaves(def, unknown, badArch Action) []leaf {
	type point struct {
		nr    uint32
		conds []condRule
		fb    Action
	}
	var pts []point
	var hasLow, hasX32 bool
	for _, ap := range s.arches {
		if ap.arch.NrBase == syscalls.X32Bit {
			hasX32 = true
		} else {
			hasLow = true
		}
		for _, nr := range ap.arch.Numbers() {
			p := point{nr: nr, fb: def}
			if c := ap.calls[nr]; c != nil {
				p.conds, p.fb = c.outcome(def)
			}
			pts = append(pts, p)
		}
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].nr < pts[j].nr })
	// Holes inside a table are numbers no kernel will assign: they take the
	// default. Numbers past the table's end may be calls newer than
	// trustbox: they take unknown (ENOSYS), as runc does.
	var maxLow, maxX32 uint32
	for _, ap := range s.arches {
		nrs := ap.arch.Numbers()
		if ap.arch.NrBase == syscalls.X32Bit {
			maxX32 = nrs[len(nrs)-1]
		} else {
			maxLow = nrs[len(nrs)-1]
		}
	}
	gap := func(nr uint32) Action {
		x32 := s.audit == syscalls.AuditX86_64 && nr >= syscalls.X32Bit
		switch {
		case s.audit == syscalls.AuditX86_64 && (x32 && !hasX32 || !x32 && !hasLow):
			return badArch
		case x32 && nr < maxX32, !x32 && nr < maxLow:
			return def
		}
		return unknown
	}
	var out []leaf
	push := func(l leaf) {
		if n := len(out); n > 0 && out[n-1].key() == l.key() && out[n-1].hi+1 == l.lo {
			out[n-1].hi = l.hi
			out[n-1].weight += l.weight
			return
		}
		out = append(out, l)
	}
	pushGap := func(lo, hi uint32) {
		if s.audit == syscalls.AuditX86_64 && lo < syscalls.X32Bit && hi >= syscalls.X32Bit {
			push(leaf{lo: lo, hi: syscalls.X32Bit - 1, fb: gap(lo)})
			lo = syscalls.X32Bit
		}
		push(leaf{lo: lo, hi: hi, fb: gap(lo)})
	}
	next := uint64(0)
	for _, p := range pts {
		if uint64(p.nr) > next {
			pushGap(uint32(next), p.nr-1)
		}
		// Allowed calls are the hot path: weigh them above refused ones.
		w := int64(1)
		if p.fb.Permits() || len(p.conds) > 0 {
			w = 4
		}
		push(leaf{lo: p.nr, hi: p.nr, conds: p.conds, fb: p.fb, weight: w})
		next = uint64(p.nr) + 1
	}
	if next <= 0xffffffff {
		pushGap(uint32(next), 0xffffffff)
	}
	return out
}

// optimalSplits computes the alphabetic search tree over leaves that
// minimises the weighted number of comparisons (Knuth's dynamic program):
// root[i][j] is the last leaf of the left subtree of leaves i..j.
func optimalSplits(ls []leaf) [][]int {
	n := len(ls)
	pre := make([]int64, n+1)
	for i, l := range ls {
		pre[i+1] = pre[i] + l.weight
	}
	cost := make([][]int64, n)
	root := make([][]int, n)
	for i := range cost {
		cost[i] = make([]int64, n)
		root[i] = make([]int, n)
		root[i][i] = i
	}
	for span := 1; span < n; span++ {
		for i := 0; i+span < n; i++ {
			j := i + span
			lo, hi := i, j-1
			if span > 1 {
				lo, hi = root[i][j-1], min(root[i+1][j], j-1)
			}
			if lo > hi {
				lo, hi = i, j-1
			}
			best, bk := int64(-1), lo
			for k := lo; k <= hi; k++ {
				c := cost[i][k] + cost[k+1][j]
				if best < 0 || c < best {
					best, bk = c, k
				}
			}
			cost[i][j] = best + pre[j+1] - pre[i]
			root[i][j] = bk
		}
	}
	return root
}
