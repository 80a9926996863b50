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
	// except are single call numbers inside [lo, hi] with another outcome,
	// checked with one jeq each before the run's own action.
	except []leaf
	k      string // cached key()
}

// key identifies the run's outcome; runs with equal keys can merge.
func (l *leaf) key() string {
	if l.k == "" {
		l.k = l.outcomeKey()
	}
	return l.k
}

func (l *leaf) outcomeKey() string {
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
		if ap.arch.NrBase == syscalls.X32Bit {
			maxX32 = lastRegular(ap.arch)
		} else {
			maxLow = lastRegular(ap.arch)
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

// maxExcept bounds the jeq checks a merged leaf makes before its action.
const maxExcept = 3

// groupCosts[i][j] is the cost of serving runs i..j as one leaf (-1 when
// impossible): the runs share run i's outcome except for up to maxExcept
// single numbers, each checked with a jeq (heaviest first) before the
// shared action.
func groupCosts(ls []leaf) [][]int64 {
	n := len(ls)
	ids := make([]int, n)
	seen := map[string]int{}
	for i := range ls {
		k := ls[i].key()
		if _, ok := seen[k]; !ok {
			seen[k] = len(seen)
		}
		ids[i] = seen[k]
	}
	g := make([][]int64, n)
	for i := range g {
		g[i] = make([]int64, n)
		for j := range g[i] {
			g[i][j] = -1
		}
		var base int64
		var ex []int64
		for j := i; j < n; j++ {
			if ids[j] == ids[i] {
				base += ls[j].weight
			} else if ls[j].lo == ls[j].hi && len(ex) < maxExcept {
				ex = append(ex, ls[j].weight)
				sort.Slice(ex, func(a, b int) bool { return ex[a] > ex[b] })
				continue
			} else {
				break
			}
			cost := base * int64(len(ex))
			for p, w := range ex {
				cost += w * int64(p+1)
			}
			g[i][j] = cost
		}
	}
	return g
}

// optimalSplits computes the alphabetic search tree over leaves that
// minimises the weighted number of comparisons (Knuth's dynamic program):
// root[i][j] is the last leaf of the left subtree of leaves i..j, or -1
// when i..j is served as one leaf with exceptions (groupCosts). Splits are
// searched within Knuth's bounds on the best splits.
func optimalSplits(ls []leaf) [][]int {
	n := len(ls)
	pre := make([]int64, n+1)
	for i, l := range ls {
		pre[i+1] = pre[i] + l.weight
	}
	cost := make([][]int64, n)
	root := make([][]int, n)
	split := make([][]int, n)
	group := groupCosts(ls)
	for i := range cost {
		cost[i] = make([]int64, n)
		root[i] = make([]int, n)
		split[i] = make([]int, n)
		root[i][i], split[i][i] = i, i
	}
	for span := 1; span < n; span++ {
		for i := 0; i+span < n; i++ {
			j := i + span
			// Knuth's bounds, taken from the best splits (even where a
			// merged leaf won): not exact with merged leaves, but the
			// program stays correct and compiling stays O(n^2).
			lo, hi := i, j-1
			if span > 1 {
				lo, hi = split[i][j-1], min(split[i+1][j], j-1)
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
			root[i][j], split[i][j] = bk, bk
			if g := group[i][j]; g >= 0 && g <= cost[i][j] {
				cost[i][j], root[i][j] = g, -1
			}
		}
	}
	return root
}

// lastRegular is the arch's highest ordinary call number: ARM's private
// calls at 0x0f0000 and up do not mark where new calls will appear.
func lastRegular(a syscalls.Arch) uint32 {
	var last uint32
	for _, nr := range a.Numbers() {
		if nr-a.NrBase < 0x0f0000 {
			last = nr
		}
	}
	return last
}
