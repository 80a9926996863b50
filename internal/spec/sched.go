package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The per-process scheduling settings of runtime-spec 1.2 and 1.3 (process
// scheduler, ioPriority and execCPUAffinity, linux.memoryPolicy): each is
// turned into what its system call takes here, so the check at create and
// init's application cannot disagree.

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: unix.SCHED_NORMAL, specs.SchedFIFO: unix.SCHED_FIFO, specs.SchedRR: unix.SCHED_RR,
	specs.SchedBatch: unix.SCHED_BATCH, specs.SchedIdle: unix.SCHED_IDLE, specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: unix.SCHED_FLAG_RESET_ON_FORK, specs.SchedFlagReclaim: unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun: unix.SCHED_FLAG_DL_OVERRUN, specs.SchedFlagKeepPolicy: unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams: unix.SCHED_FLAG_KEEP_PARAMS,
}

// SchedAttr turns process.scheduler into sched_setattr(2)'s argument.
func SchedAttr(s *specs.Scheduler) (*unix.SchedAttr, error) {
	const f = "process.scheduler"
	policy, ok := schedPolicies[s.Policy]
	if !ok {
		if s.Policy == specs.SchedISO {
			return nil, fieldErr(f+".policy", "SCHED_ISO is not implemented by Linux")
		}
		return nil, fieldErr(f+".policy", "unknown policy %q", s.Policy)
	}
	a := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: policy}
	for i, fl := range s.Flags {
		bit, ok := schedFlags[fl]
		if !ok && (fl == specs.SchedFlagUtilClampMin || fl == specs.SchedFlagUtilClampMax) {
			// The spec has no field for the clamp values, so they would be 0:
			// a maximum of 0 throttles the workload to nothing.
			return nil, fieldErr(fmt.Sprintf("%s.flags[%d]", f, i), "%s needs a value the spec cannot carry: not supported", fl)
		}
		if !ok {
			return nil, fieldErr(fmt.Sprintf("%s.flags[%d]", f, i), "unknown flag %q", fl)
		}
		a.Flags |= bit
	}
	realtime := policy == unix.SCHED_FIFO || policy == unix.SCHED_RR
	switch {
	case s.Nice < -20 || s.Nice > 19:
		return nil, fieldErr(f+".nice", "%d is outside -20..19", s.Nice)
	case realtime && (s.Priority < 1 || s.Priority > 99):
		return nil, fieldErr(f+".priority", "%d: %s takes 1..99", s.Priority, s.Policy)
	case !realtime && s.Priority != 0:
		return nil, fieldErr(f+".priority", "%d: only SCHED_FIFO and SCHED_RR take a priority", s.Priority)
	case policy != unix.SCHED_DEADLINE && (s.Runtime != 0 || s.Deadline != 0 || s.Period != 0):
		return nil, fieldErr(f, "runtime, deadline and period are for SCHED_DEADLINE only")
	case policy == unix.SCHED_DEADLINE && (s.Runtime == 0 || s.Runtime > s.Deadline || (s.Period != 0 && s.Deadline > s.Period)):
		return nil, fieldErr(f, "SCHED_DEADLINE needs 0 < runtime <= deadline <= period (period 0 means deadline)")
	}
	a.Nice, a.Priority = s.Nice, uint32(s.Priority)
	a.Runtime, a.Deadline, a.Period = s.Runtime, s.Deadline, s.Period
	return a, nil
}

// IOPrio turns process.ioPriority into ioprio_set(2)'s value.
func IOPrio(p *specs.LinuxIOPriority) (int, error) {
	classes := map[specs.IOPriorityClass]int{specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3}
	class, ok := classes[p.Class]
	if !ok {
		return 0, fieldErr("process.ioPriority.class", "unknown class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return 0, fieldErr("process.ioPriority.priority", "%d is outside 0..7", p.Priority)
	}
	return class<<13 | p.Priority, nil
}

// ParseList parses a Linux CPU or NUMA node list ("0-3,7"), as cpuset and
// set_mempolicy(2) write them, into a mask of at most max bits.
func ParseList(list string, max int) (*unix.CPUSet, error) {
	var set unix.CPUSet
	if strings.TrimSpace(list) == "" {
		return nil, fmt.Errorf("empty list")
	}
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := cpuNumber(lo)
		b := a
		if err == nil && isRange {
			b, err = cpuNumber(hi)
		}
		if err != nil || b < a {
			return nil, fmt.Errorf("%q is not a number or a range a-b", part)
		}
		if b >= max {
			return nil, fmt.Errorf("%d is beyond the last supported (%d)", b, max-1)
		}
		for i := a; i <= b; i++ {
			set.Set(i)
		}
	}
	return &set, nil
}

// cpuNumber is strconv.Atoi for plain decimal digits only (no sign).
func cpuNumber(s string) (int, error) {
	if s == "" || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	return strconv.Atoi(s)
}

// maxCPUs is what unix.CPUSet holds; maxNodes what set_mempolicy reads of it
// (the kernel takes one bit fewer than the size passed).
const (
	maxCPUs  = 1024
	maxNodes = 1023
)

// CPUAffinity parses process.execCPUAffinity: initial applies to init from
// its clone until it is in the container's cgroup, final to the workload
// (nil when not set).
func CPUAffinity(a *specs.CPUAffinity) (initial, final *unix.CPUSet, err error) {
	const f = "process.execCPUAffinity"
	if a.Initial != "" {
		if initial, err = ParseList(a.Initial, maxCPUs); err != nil {
			return nil, nil, fieldErr(f+".initial", "%v", err)
		}
	}
	if a.Final != "" {
		if final, err = ParseList(a.Final, maxCPUs); err != nil {
			return nil, nil, fieldErr(f+".final", "%v", err)
		}
	}
	return initial, final, nil
}

var mpolModes = map[specs.MemoryPolicyModeType]int{
	specs.MpolDefault: unix.MPOL_DEFAULT, specs.MpolBind: unix.MPOL_BIND, specs.MpolInterleave: unix.MPOL_INTERLEAVE,
	specs.MpolWeightedInterleave: unix.MPOL_WEIGHTED_INTERLEAVE, specs.MpolPreferred: unix.MPOL_PREFERRED,
	specs.MpolPreferredMany: unix.MPOL_PREFERRED_MANY, specs.MpolLocal: unix.MPOL_LOCAL,
}

var mpolFlags = map[specs.MemoryPolicyFlagType]int{
	specs.MpolFNumaBalancing: unix.MPOL_F_NUMA_BALANCING, specs.MpolFRelativeNodes: unix.MPOL_F_RELATIVE_NODES,
	specs.MpolFStaticNodes: unix.MPOL_F_STATIC_NODES,
}

// MemPolicy turns linux.memoryPolicy into set_mempolicy(2)'s mode (with its
// flags) and node mask (nil for the modes that take none).
func MemPolicy(p *specs.LinuxMemoryPolicy) (int, *unix.CPUSet, error) {
	const f = "linux.memoryPolicy"
	mode, ok := mpolModes[p.Mode]
	if !ok {
		return 0, nil, fieldErr(f+".mode", "unknown mode %q", p.Mode)
	}
	for i, fl := range p.Flags {
		bit, ok := mpolFlags[fl]
		if !ok {
			return 0, nil, fieldErr(fmt.Sprintf("%s.flags[%d]", f, i), "unknown flag %q", fl)
		}
		mode |= bit
	}
	if p.Mode == specs.MpolDefault || p.Mode == specs.MpolLocal {
		if p.Nodes != "" {
			return 0, nil, fieldErr(f+".nodes", "%s takes no nodes", p.Mode)
		}
		if len(p.Flags) > 0 {
			return 0, nil, fieldErr(f+".flags", "%s takes no flags", p.Mode)
		}
		return mode, nil, nil
	}
	if p.Mode == specs.MpolPreferred && p.Nodes == "" {
		return mode, nil, nil // the kernel's "local allocation"
	}
	nodes, err := ParseList(p.Nodes, maxNodes)
	if err != nil {
		return 0, nil, fieldErr(f+".nodes", "%v", err)
	}
	return mode, nodes, nil
}

// checkScheduling validates the settings above at create (and exec).
func checkScheduling(s *specs.Spec, _ string) error {
	if p := s.Process; p != nil {
		if p.Scheduler != nil {
			if _, err := SchedAttr(p.Scheduler); err != nil {
				return err
			}
		}
		if p.IOPriority != nil {
			if _, err := IOPrio(p.IOPriority); err != nil {
				return err
			}
		}
		if p.ExecCPUAffinity != nil {
			if _, _, err := CPUAffinity(p.ExecCPUAffinity); err != nil {
				return err
			}
		}
	}
	if s.Linux != nil && s.Linux.MemoryPolicy != nil {
		if _, _, err := MemPolicy(s.Linux.MemoryPolicy); err != nil {
			return err
		}
	}
	return nil
}

// checkUnsupported refuses what trustbox does not implement, naming the
// field, instead of starting the container without it.
func checkUnsupported(s *specs.Spec, _ string) error {
	l := s.Linux
	switch {
	case l == nil:
		return nil
	case l.IntelRdt != nil:
		return fieldErr("linux.intelRdt", "Intel RDT (resctrl) is not supported by trustbox yet")
	case len(l.NetDevices) > 0:
		return fieldErr("linux.netDevices", "moving host network devices into the container is not supported by trustbox yet")
	case l.Resources != nil && len(l.Resources.Rdma) > 0:
		return fieldErr("linux.resources.rdma", "the rdma cgroup controller is not supported by trustbox yet")
	case l.Resources != nil && l.Resources.Network != nil:
		return fieldErr("linux.resources.network", "net_cls and net_prio (cgroup v1 only) are not supported by trustbox yet")
	}
	return nil
}

// MemoryPolicyNames lists the linux.memoryPolicy modes and flags accepted,
// sorted, for the features document.
func MemoryPolicyNames() (modes, flags []string) {
	for m := range mpolModes {
		modes = append(modes, string(m))
	}
	for f := range mpolFlags {
		flags = append(flags, string(f))
	}
	slices.Sort(modes)
	slices.Sort(flags)
	return modes, flags
}
