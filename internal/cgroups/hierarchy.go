package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Mode is how the host mounts cgroups.
type Mode int

// Host cgroup layouts.
const (
	Legacy  Mode = iota // v1 only
	Hybrid              // v1 controllers plus a controller-less cgroup2 (this machine)
	Unified             // v2 only
)

func (m Mode) String() string {
	return [...]string{"legacy (v1)", "hybrid (v1 + v2)", "unified (v2)"}[m]
}

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	Mountpoint  string
	Controllers []string // v1 controllers (name=systemd included); empty for v2
	V2          bool
}

// Key names the hierarchy in state files: the first controller, or "unified".
func (h Hierarchy) Key() string {
	if h.V2 {
		return "unified"
	}
	return strings.Join(h.Controllers, ",")
}

// Has reports whether the hierarchy carries controller c.
func (h Hierarchy) Has(c string) bool {
	for _, x := range h.Controllers {
		if x == c {
			return true
		}
	}
	return false
}

// Detect reads the host's cgroup mounts from /proc/self/mountinfo, once per
// process: a trustbox process lives for one command, and the kernel builds
// mountinfo afresh on each read, at a cost that grows with the host's mounts
// (`run` creates and deletes, and would read it twice). trustbox never
// changes the host's cgroup mounts.
func Detect() (Mode, []Hierarchy, error) {
	d := detected()
	return d.mode, slices.Clone(d.hs), d.err
}

var detected = sync.OnceValue(func() (d struct {
	mode Mode
	hs   []Hierarchy
	err  error
}) {
	d.mode, d.hs, d.err = detect()
	return d
})

func detect() (Mode, []Hierarchy, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0, nil, fmt.Errorf("detect cgroups: %w", err)
	}
	defer f.Close()
	var hs []Hierarchy
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+3 >= len(fields) || len(fields) < 5 {
			continue
		}
		mp, fstype, superOpts := fields[4], fields[sep+1], fields[sep+3]
		if seen[mp] {
			continue
		}
		switch fstype {
		case "cgroup2":
			seen[mp] = true
			hs = append(hs, Hierarchy{Mountpoint: mp, V2: true})
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(superOpts, ",") {
				switch {
				case o == "rw" || o == "ro" || strings.HasPrefix(o, "release_agent") || o == "clone_children" || o == "noprefix" || o == "xattr":
				default:
					ctrls = append(ctrls, o)
				}
			}
			seen[mp] = true
			hs = append(hs, Hierarchy{Mountpoint: mp, Controllers: ctrls})
		}
	}
	if err := sc.Err(); err != nil {
		return 0, nil, fmt.Errorf("detect cgroups: %w", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Unified, onlyV2(hs), nil
	}
	for _, h := range hs {
		if h.V2 {
			return Hybrid, hs, nil
		}
	}
	if len(hs) == 0 {
		return 0, nil, fmt.Errorf("detect cgroups: no cgroup filesystem is mounted")
	}
	return Legacy, hs, nil
}

func onlyV2(hs []Hierarchy) []Hierarchy {
	for _, h := range hs {
		if h.V2 && h.Mountpoint == "/sys/fs/cgroup" {
			return []Hierarchy{h}
		}
	}
	return hs[:0]
}
