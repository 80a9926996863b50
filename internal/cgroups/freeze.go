package cgroups

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Freeze stops every process of the container (pause).
func (m *Manager) Freeze() error { return m.setFrozen(true) }

// Thaw resumes a frozen container.
func (m *Manager) Thaw() error { return m.setFrozen(false) }

func (m *Manager) setFrozen(on bool) error {
	for _, h := range m.hiers {
		dir := m.Dirs[h.Key()]
		switch {
		case h.Has("freezer"):
			want := map[bool]string{true: "FROZEN", false: "THAWED"}[on]
			if err := write(dir, "freezer.state", want); err != nil {
				return err
			}
			// The v1 freezer moves through FREEZING: the kernel has no event for it, so poll its state.
			for i := 0; ; i++ {
				got, err := readTrim(dir, "freezer.state")
				if err != nil {
					return fmt.Errorf("freezer %s: %w", dir, err)
				}
				if got == want {
					return nil
				}
				if i > 2000 {
					return fmt.Errorf("freezer %s: stuck in %s", dir, got)
				}
				time.Sleep(time.Millisecond)
			}
		case h.V2 && m.Mode == Unified:
			if err := write(dir, "cgroup.freeze", map[bool]string{true: "1", false: "0"}[on]); err != nil {
				return err
			}
			// The kernel freezes each task as it next returns to user space:
			// cgroup.freeze is the request, cgroup.events' "frozen" the
			// outcome, announced to poll(2). Wait for it, as for v1's
			// FREEZING, so `pause` returns with the container stopped and
			// `state` says paused.
			return awaitEvent(dir, map[bool]string{true: "frozen 1", false: "frozen 0"}[on], 2*time.Second)
		}
	}
	return fmt.Errorf("pause: no freezer controller on this host")
}

// Frozen reports whether the container is paused.
func (m *Manager) Frozen() bool {
	for _, h := range m.hiers {
		dir := m.Dirs[h.Key()]
		if h.Has("freezer") {
			s, _ := readTrim(dir, "freezer.state")
			return s == "FROZEN"
		}
		if h.V2 && m.Mode == Unified {
			s, _ := readTrim(dir, "cgroup.events")
			return strings.Contains(s, "frozen 1")
		}
	}
	return false
}

// Stats is the subset of cgroup statistics `events --stats` reports.
type Stats struct {
	MemoryUsage uint64 `json:"memory_usage"`
	MemoryLimit uint64 `json:"memory_limit"`
	PidsCurrent uint64 `json:"pids_current"`
	PidsLimit   uint64 `json:"pids_limit"`
	CPUUsageNs  uint64 `json:"cpu_usage_ns"`
}

// Stats reads current usage from whichever hierarchy has each controller.
func (m *Manager) Stats() Stats {
	var s Stats
	num := func(dir, f string) uint64 {
		v, _ := readTrim(dir, f)
		n, _ := strconv.ParseUint(v, 10, 64)
		return n
	}
	for _, h := range m.hiers {
		dir := m.Dirs[h.Key()]
		switch {
		case h.Has("memory"):
			s.MemoryUsage, s.MemoryLimit = num(dir, "memory.usage_in_bytes"), num(dir, "memory.limit_in_bytes")
		case h.Has("pids"):
			s.PidsCurrent, s.PidsLimit = num(dir, "pids.current"), num(dir, "pids.max")
		case h.Has("cpuacct"):
			s.CPUUsageNs = num(dir, "cpuacct.usage")
		case h.V2 && m.Mode == Unified:
			s.MemoryUsage = num(dir, "memory.current")
			if v, _ := readTrim(dir, "memory.max"); v == "max" {
				// As runc reports it (v1 reads a huge number); pids "max"
				// stays 0, runc's "no limit".
				s.MemoryLimit = math.MaxUint64
			} else {
				s.MemoryLimit, _ = strconv.ParseUint(v, 10, 64)
			}
			s.PidsCurrent, s.PidsLimit = num(dir, "pids.current"), num(dir, "pids.max")
			s.CPUUsageNs = cpuStatUsec(dir) * 1000
		}
	}
	return s
}

// cpuStatUsec reads usage_usec from v2's cpu.stat (present with or without
// the cpu controller: the core accounts CPU time for every cgroup).
func cpuStatUsec(dir string) uint64 {
	data, _ := readTrim(dir, "cpu.stat")
	for _, line := range strings.Split(data, "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

// awaitEvent waits until dir's cgroup.events holds line: the kernel wakes
// poll(2) on that file (POLLPRI) whenever it changes.
func awaitEvent(dir, line string, timeout time.Duration) error {
	f, err := os.Open(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return fmt.Errorf("freezer %s: %w", dir, err)
	}
	defer f.Close()
	buf := make([]byte, 256)
	for deadline := time.Now().Add(timeout); ; {
		n, err := f.ReadAt(buf, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("freezer %s: %w", dir, err)
		}
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			if l == line {
				return nil
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("freezer %s: not %s after %s", dir, line, timeout)
		}
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLPRI}}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("freezer %s: %w", dir, err)
		}
	}
}
