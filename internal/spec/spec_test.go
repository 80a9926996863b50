package spec

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func validSpec() *specs.Spec {
	s := Default(false, 0, 0)
	s.Process.Terminal = false
	return s
}

// Every check names the field it refuses (the error users see).
func TestValidateNamesTheField(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name  string
		mut   func(*specs.Spec)
		field string
	}{
		{"ok", func(*specs.Spec) {}, ""},
		{"version", func(s *specs.Spec) { s.Version = "2.0.0" }, "ociVersion"},
		{"cwd", func(s *specs.Spec) { s.Process.Cwd = "rel" }, "process.cwd"},
		{"env", func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "NOEQUALS") }, "process.env[2]"},
		{"oom", func(s *specs.Spec) { v := 5000; s.Process.OOMScoreAdj = &v }, "process.oomScoreAdj"},
		{"ns dup", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UTSNamespace})
		}, "linux.namespaces[7].type"},
		{"ns path", func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "rel/path" }, "linux.namespaces[1].path"},
		{"mapping without userns", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:5] }, "linux.uidMappings"},
		{"mapping overflow", func(s *specs.Spec) { s.Linux.UIDMappings[0].HostID = 1<<32 - 10 }, "linux.uidMappings[0]"},
		{"mount option", func(s *specs.Spec) { s.Mounts[0].Options = []string{"bad,comma"} }, "mounts[0].options"},
		{"bind without source", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind"})
		}, "mounts[8].source"},
		{"sysctl host", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} }, "linux.sysctl.vm.swappiness"},
		{"sysctl path", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/../x": "1"} }, "linux.sysctl.net/../x"},
		{"sysctl net without netns", func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.UserNamespace}}
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "linux.sysctl.net.ipv4.ip_forward"},
		{"swap below limit", func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(1 << 30), Swap: i64(1 << 20)}
		}, "linux.resources.memory.swap"},
		{"cpu period", func(s *specs.Spec) { p := uint64(10); s.Linux.Resources.CPU = &specs.LinuxCPU{Period: &p} }, "linux.resources.cpu.period"},
		{"device rule type", func(s *specs.Spec) { s.Linux.Resources.Devices[0].Type = "x" }, "linux.resources.devices[0].type"},
		{"device path", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev", Type: "c"}}
		}, "linux.devices[0].path"},
		{"personality", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "BSD"} }, "linux.personality.domain"},
		{"unified v2 file", func(s *specs.Spec) {
			s.Linux.Resources.Unified = map[string]string{"memory.high": "60000000", "io.latency": "default target=1000"}
		}, ""},
		{"unified core file", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"cgroup.procs": "1"} }, "linux.resources.unified.cgroup.procs"},
		{"unified path", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"../memory.max": "1"} }, "linux.resources.unified.../memory.max"},
		{"unified subdir", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"x/memory.max": "1"} }, "linux.resources.unified.x/memory.max"},
		{"unified no controller", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"memory": "1"} }, "linux.resources.unified.memory"},
		{"unified two lines", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"memory.high": "1\nmax"} }, "linux.resources.unified.memory.high"},
		{"time offsets without ns", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "linux.timeOffsets"},
		{"time offsets", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: -5}, "boottime": {Secs: 86400, Nanosecs: 999999999}}
		}, ""},
		{"time offset of realtime", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		}, "linux.timeOffsets"},
		{"time offset nanoseconds", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, "linux.timeOffsets.boottime.nanosecs"},
		{"time offsets for a joined time ns", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace, Path: "/proc/1/ns/time"})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}}
		}, "linux.timeOffsets"},
		{"scheduler", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedRR, Priority: 10, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		}, ""},
		{"SCHED_ISO", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedISO} }, "process.scheduler.policy"},
		{"scheduler flag", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_X"}}
		}, "process.scheduler.flags[0]"},
		{"util clamp without a value", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagUtilClampMax}}
		}, "process.scheduler.flags[0]"},
		{"preferred local", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred} }, ""},
		{"realtime without priority", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO} }, "process.scheduler.priority"},
		{"nice", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 20} }, "process.scheduler.nice"},
		{"deadline", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 2000000, Deadline: 1000000}
		}, "process.scheduler"},
		{"deadline fields elsewhere", func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Period: 5} }, "process.scheduler"},
		{"io class", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_X"} }, "process.ioPriority.class"},
		{"io priority", func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 8}
		}, "process.ioPriority.priority"},
		{"affinity", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0-1,3", Final: "2"} }, ""},
		{"affinity range", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "3-1"} }, "process.execCPUAffinity.final"},
		{"affinity beyond", func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "1024"} }, "process.execCPUAffinity.initial"},
		{"memory policy", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0-1", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}
		}, ""},
		{"memory policy without nodes", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind} }, "linux.memoryPolicy.nodes"},
		{"memory policy local with nodes", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}
		}, "linux.memoryPolicy.nodes"},
		{"memory policy mode", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "MPOL_X", Nodes: "0"} }, "linux.memoryPolicy.mode"},
		{"console size", func(s *specs.Spec) { s.Process.ConsoleSize = &specs.Box{Height: 70000, Width: 80} }, "process.consoleSize"},
		{"intel rdt", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "x"} }, "linux.intelRdt"},
		{"net devices", func(s *specs.Spec) { s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}} }, "linux.netDevices"},
		{"rdma", func(s *specs.Spec) { s.Linux.Resources.Rdma = map[string]specs.LinuxRdma{"mlx5_0": {}} }, "linux.resources.rdma"},
		{"net_cls", func(s *specs.Spec) { c := uint32(1); s.Linux.Resources.Network = &specs.LinuxNetwork{ClassID: &c} }, "linux.resources.network"},
		{"joined mount ns with mounts", func(s *specs.Spec) { joinMount(s) }, "mounts"},
		{"joined mount ns", func(s *specs.Spec) { joinMount(s); s.Mounts = nil }, ""},
		{"joined mount ns with devices", func(s *specs.Spec) {
			joinMount(s)
			s.Mounts, s.Linux.Devices = nil, []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
		}, "linux.devices"},
		{"joined mount ns with propagation", func(s *specs.Spec) {
			joinMount(s)
			s.Mounts, s.Linux.RootfsPropagation = nil, "rshared"
		}, "linux.rootfsPropagation"},
		{"joined mount ns with sysctl", func(s *specs.Spec) {
			joinMount(s)
			s.Mounts, s.Linux.Sysctl = nil, map[string]string{"kernel.domainname": "x"}
		}, "linux.sysctl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.mut(s)
			err := Validate(s, t.TempDir())
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid spec refused: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want an error on %s", err, tc.field)
			}
		})
	}
}

func TestParseReportsUnknownFieldsAndPositions(t *testing.T) {
	s, unknown, err := Parse([]byte(`{"ociVersion":"1.0.0","futureField":{"x":1}}`))
	if err != nil || s.Version != "1.0.0" || len(unknown.Paths) != 1 || unknown.Paths[0] != "futureField" {
		t.Fatalf("got %v %v %v", s, unknown, err)
	}
	// The encoding/json fallback (a folded name makes the fast path
	// decline) reports the name as it is, not as Go quotes it.
	if _, unknown, err := Parse([]byte(`{"Hostname":"h","a\nb":1}`)); err != nil || len(unknown.Paths) != 1 || unknown.Paths[0] != "a\nb" {
		t.Fatalf("fallback: %q %v", unknown.Paths, err)
	}
	// Whatever follows the object, but whitespace, is refused, a stray
	// bracket too (json.Decoder.More misses those).
	for _, in := range []string{`{}]`, `{} }`, `{"hostname":"a"}}`, `{} x`, `{}{}`} {
		if _, _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), "trailing data") && !strings.Contains(err.Error(), "malformed") {
			t.Errorf("%s: %v", in, err)
		}
	}
	if _, _, err := Parse([]byte("{} \n\t\r ")); err != nil {
		t.Errorf("trailing whitespace: %v", err)
	}
	_, _, err = Parse([]byte("{\n\"ociVersion\": \"1.0.0\",\n\"process\": {\"args\": 5}}"))
	if err == nil || !strings.Contains(err.Error(), "process.args") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("type error: %v", err)
	}
	_, _, err = Parse([]byte("{\n\n  \"ociVersion\": ,}"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("syntax error: %v", err)
	}
	if _, _, err := Parse(make([]byte, MaxConfigSize+1)); err == nil {
		t.Fatal("oversized config accepted")
	}
}

func TestParseMountOptions(t *testing.T) {
	mo, err := ParseMountOptions([]string{"rbind", "ro", "nosuid", "rslave", "mode=755", "newinstance"})
	if err != nil {
		t.Fatal(err)
	}
	if !mo.Recursive || mo.Propagation == 0 || len(mo.Data) != 2 || mo.Attr == 0 {
		t.Fatalf("%+v", mo)
	}
	mo, _ = ParseMountOptions([]string{"ro", "rw"})
	if mo.Attr != 0 {
		t.Fatalf("rw after ro must clear ro: %+v", mo)
	}
}

// FuzzParse: no input crashes the loader; whatever parses also validates without panicking.
func FuzzParse(f *testing.F) {
	good, _ := json.Marshal(validSpec())
	f.Add(good)
	f.Add([]byte(`{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}`))
	f.Add([]byte(`{"ociVersion":"1.2.0","mounts":[{"destination":"proc","type":"proc"}],"linux":{"uidMappings":[{"containerID":0,"hostID":4294967290,"size":100}]}}`))
	f.Add([]byte(`{"process":{"rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":1}]},"linux":{"sysctl":{"kernel.panic":"1"}}}`))
	f.Add([]byte("\x00\xff{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, _, err := Parse(data)
		if err != nil {
			return
		}
		_ = Validate(s, "/nonexistent")
	})
}

// joinMount makes s join a mount namespace by path.
func joinMount(s *specs.Spec) {
	for i, ns := range s.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			s.Linux.Namespaces[i].Path = "/proc/1/ns/mnt"
		}
	}
}

// ParseList takes what the kernel prints for cpusets and node masks; what
// it accepts sets exactly the CPUs listed, all below the limit.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0", "0-3,7", " 1 , 2-2", "", "3-1", "-1", "1024", "0-1023", "a", "1-", ",", "2,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		set, err := ParseList(list, 64)
		if err != nil {
			return
		}
		want := map[int]bool{}
		for _, part := range strings.Split(list, ",") {
			lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if isRange {
				b, _ = strconv.Atoi(hi)
			}
			for i := a; i <= b; i++ {
				want[i] = true
			}
		}
		for i := 0; i < 1024; i++ {
			if set.IsSet(i) != want[i] {
				t.Fatalf("%q: CPU %d set=%v, listed=%v", list, i, set.IsSet(i), want[i])
			}
		}
	})
}
