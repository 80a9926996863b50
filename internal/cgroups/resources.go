package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultDevices are the device rules a container gets when its config has none:
// deny everything, then allow the harmless character devices (R-TRUST-5).
func DefaultDevices() []specs.LinuxDeviceCgroup {
	rw := "rwm"
	dev := func(major, minor int64) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: &minor, Access: rw}
	}
	wild := int64(-1)
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: rw},
		dev(1, 3), dev(1, 5), dev(1, 7), dev(1, 8), dev(1, 9), dev(5, 0), dev(5, 1), dev(5, 2),
		{Allow: true, Type: "c", Major: func() *int64 { v := int64(136); return &v }(), Minor: &wild, Access: rw},
	}
}

// Check refuses resources this host's cgroups cannot apply, before a
// container is started: linux.resources.unified names cgroup v2 files,
// which a v1 or hybrid host (whose v2 tree has no controllers) does not
// have. runc refuses it there too.
func (m *Manager) Check(r *specs.LinuxResources) error {
	if r != nil && len(r.Unified) > 0 && m.Mode != Unified {
		return fmt.Errorf("linux.resources.unified: needs a cgroup v2 host; this one is %s", m.Mode)
	}
	return nil
}

// Set applies OCI resources to every hierarchy that carries the controller.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if err := m.Check(r); err != nil {
		return err
	}
	for _, h := range m.hiers {
		dir := m.Dirs[h.Key()]
		var err error
		if h.V2 {
			err = setV2(dir, r, m.Mode == Unified)
			if err == nil && len(r.Devices) > 0 && (m.Mode == Unified || !m.hasV1("devices")) {
				// v2 has no devices controller: an eBPF program decides. On a
				// hybrid host whose v1 devices controller carries the same
				// rules, the program would only repeat them (as runc and crun,
				// trustbox leaves it out there: loading it costs ~1 ms per
				// container). The kernel consults both, so either denies.
				err = AttachDeviceFilter(dir, r.Devices)
			}
		} else {
			err = setV1(h, dir, r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

type kv struct{ file, val string }

func setV1(h Hierarchy, dir string, r *specs.LinuxResources) error {
	var w []kv
	if mem := r.Memory; mem != nil && h.Has("memory") {
		w = appendInt(w, "memory.limit_in_bytes", mem.Limit)
		if mem.Swap != nil && exists(dir, "memory.memsw.limit_in_bytes") {
			w = appendInt(w, "memory.memsw.limit_in_bytes", mem.Swap)
		}
		w = appendInt(w, "memory.soft_limit_in_bytes", mem.Reservation)
		if mem.Swappiness != nil {
			w = append(w, kv{"memory.swappiness", strconv.FormatUint(*mem.Swappiness, 10)})
		}
	}
	if c := r.CPU; c != nil {
		if h.Has("cpu") {
			if c.Shares != nil && *c.Shares != 0 {
				w = append(w, kv{"cpu.shares", strconv.FormatUint(*c.Shares, 10)})
			}
			if c.Period != nil && *c.Period != 0 {
				w = append(w, kv{"cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10)})
			}
			w = appendInt(w, "cpu.cfs_quota_us", c.Quota)
		}
		if h.Has("cpuset") {
			if c.Cpus != "" {
				w = append(w, kv{"cpuset.cpus", c.Cpus})
			}
			if c.Mems != "" {
				w = append(w, kv{"cpuset.mems", c.Mems})
			}
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil && h.Has("pids") {
		w = append(w, kv{"pids.max", pidsMax(*p.Limit)})
	}
	if b := r.BlockIO; b != nil && b.Weight != nil && *b.Weight != 0 && h.Has("blkio") && exists(dir, "blkio.weight") {
		w = append(w, kv{"blkio.weight", strconv.Itoa(int(*b.Weight))})
	}
	if h.Has("devices") {
		for _, d := range r.Devices {
			f := "devices.deny"
			if d.Allow {
				f = "devices.allow"
			}
			w = append(w, kv{f, DeviceRule(d)})
		}
	}
	for _, hp := range r.HugepageLimits {
		if h.Has("hugetlb") {
			w = append(w, kv{"hugetlb." + hp.Pagesize + ".limit_in_bytes", strconv.FormatUint(hp.Limit, 10)})
		}
	}
	return writeAll(dir, w)
}

func setV2(dir string, r *specs.LinuxResources, controllers bool) error {
	if !controllers {
		return nil // hybrid: the v2 tree has no controllers; v1 carries the limits
	}
	var w []kv
	if mem := r.Memory; mem != nil {
		w = appendMax(w, "memory.max", mem.Limit)
		w = appendMax(w, "memory.low", mem.Reservation)
		// OCI's swap is memory+swap (v1's memsw); v2 limits swap alone.
		if mem.Swap != nil && *mem.Swap == -1 {
			w = append(w, kv{"memory.swap.max", "max"})
		} else if mem.Swap != nil && mem.Limit != nil && *mem.Swap > 0 && *mem.Limit > 0 {
			w = append(w, kv{"memory.swap.max", strconv.FormatInt(*mem.Swap-*mem.Limit, 10)})
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && *c.Shares != 0 {
			w = append(w, kv{"cpu.weight", strconv.FormatUint(cpuWeight(*c.Shares), 10)})
		}
		if c.Quota != nil || c.Period != nil {
			// cpu.max holds both: a change of one keeps the other (update
			// --cpu-quota alone must not reset the period, as v1's separate
			// files never did).
			q, p := "max", uint64(100000)
			if cur, err := readTrim(dir, "cpu.max"); err == nil {
				if cq, cp, ok := strings.Cut(cur, " "); ok {
					q = cq
					if n, err := strconv.ParseUint(cp, 10, 64); err == nil {
						p = n
					}
				}
			}
			if c.Quota != nil {
				q = "max"
				if *c.Quota > 0 {
					q = strconv.FormatInt(*c.Quota, 10)
				}
			}
			if c.Period != nil && *c.Period != 0 {
				p = *c.Period
			}
			w = append(w, kv{"cpu.max", fmt.Sprintf("%s %d", q, p)})
		}
		if c.Cpus != "" {
			w = append(w, kv{"cpuset.cpus", c.Cpus})
		}
		if c.Mems != "" {
			w = append(w, kv{"cpuset.mems", c.Mems})
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		w = append(w, kv{"pids.max", pidsMax(*p.Limit)})
	}
	if b := r.BlockIO; b != nil {
		w = append(w, ioV2(dir, b)...)
	}
	for _, hp := range r.HugepageLimits {
		w = append(w, kv{"hugetlb." + hp.Pagesize + ".max", strconv.FormatUint(hp.Limit, 10)})
	}
	// linux.resources.unified last, so it can refine what the typed fields
	// set (as runc); keys are checked by internal/spec (no cgroup.* files,
	// no paths).
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w = append(w, kv{k, r.Unified[k]})
	}
	for _, x := range w {
		if err := write(dir, x.file, x.val); err != nil {
			if !exists(dir, x.file) {
				// The file is missing (the write, which would create it,
				// meets EACCES) when its controller is not enabled for this
				// cgroup: say which (R-ISO-3).
				ctrl, _, _ := strings.Cut(x.file, ".")
				return fmt.Errorf("%w: the %s controller is not enabled for %s (its parent's cgroup.subtree_control)", err, ctrl, dir)
			}
			return err
		}
	}
	return nil
}

// cpuWeight converts v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000],
// with the formula runc and crun use, so a container gets the same weight
// from every runtime.
func cpuWeight(shares uint64) uint64 {
	shares = min(max(shares, 2), 262144)
	return 1 + ((shares-2)*9999)/262142
}

// ioV2 converts OCI blockIO (v1 blkio semantics) to the io controller's
// files: the weight to io.bfq.weight when BFQ is the scheduler (same
// 1-1000 scale), else to io.weight (1-10000, runc's conversion); the
// throttles to io.max lines.
func ioV2(dir string, b *specs.LinuxBlockIO) []kv {
	var w []kv
	if b.Weight != nil && *b.Weight != 0 {
		if exists(dir, "io.bfq.weight") {
			w = append(w, kv{"io.bfq.weight", strconv.Itoa(int(*b.Weight))})
		} else {
			w = append(w, kv{"io.weight", strconv.Itoa(1 + (int(*b.Weight)-10)*9999/990)})
		}
	}
	for _, t := range []struct {
		key string
		ds  []specs.LinuxThrottleDevice
	}{{"rbps", b.ThrottleReadBpsDevice}, {"wbps", b.ThrottleWriteBpsDevice}, {"riops", b.ThrottleReadIOPSDevice}, {"wiops", b.ThrottleWriteIOPSDevice}} {
		for _, d := range t.ds {
			v := "max"
			if d.Rate != 0 {
				v = strconv.FormatUint(d.Rate, 10)
			}
			w = append(w, kv{"io.max", fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, t.key, v)})
		}
	}
	return w
}

// DeviceRule formats a v1 devices.allow/deny line ("c 1:3 rwm").
func DeviceRule(d specs.LinuxDeviceCgroup) string {
	t := d.Type
	if t == "" {
		t = "a"
	}
	num := func(p *int64) string {
		if p == nil || *p < 0 {
			return "*"
		}
		return strconv.FormatInt(*p, 10)
	}
	acc := d.Access
	if acc == "" {
		acc = "rwm"
	}
	return fmt.Sprintf("%s %s:%s %s", t, num(d.Major), num(d.Minor), acc)
}

func pidsMax(v int64) string {
	if v <= 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

func appendInt(w []kv, file string, v *int64) []kv {
	if v == nil || *v == 0 {
		return w
	}
	return append(w, kv{file, strconv.FormatInt(*v, 10)})
}

func appendMax(w []kv, file string, v *int64) []kv {
	if v == nil || *v == 0 {
		return w
	}
	if *v < 0 {
		return append(w, kv{file, "max"})
	}
	return append(w, kv{file, strconv.FormatInt(*v, 10)})
}

func writeAll(dir string, w []kv) error {
	for _, x := range w {
		if err := write(dir, x.file, x.val); err != nil {
			return err
		}
	}
	return nil
}

func exists(dir, file string) bool {
	_, err := os.Stat(filepath.Join(dir, file))
	return err == nil
}

func readTrim(dir, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(b)), err
}

func (m *Manager) hasV1(controller string) bool {
	for _, h := range m.hiers {
		if !h.V2 && h.Has(controller) {
			return true
		}
	}
	return false
}
