package seccomp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/trustbox/trustbox/internal/seccomp/bpfsim"
	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
	"github.com/trustbox/trustbox/internal/testutil"
	"golang.org/x/sys/unix"
)

var (
	helperOnce sync.Once
	helperPath string
	helperErr  error
)

// libseccompHelper builds testdata/libseccomp/helper.c against Debian's
// libseccomp-dev; it is the only place trustbox touches libseccomp.
func libseccompHelper(t testing.TB) string {
	t.Helper()
	testutil.RequiresBinary(t, "gcc")
	helperOnce.Do(func() {
		helperPath = filepath.Join(t.TempDir(), "libseccomp-helper")
		out, err := exec.Command("gcc", "-O2", "-o", helperPath, "testdata/libseccomp/helper.c", "-lseccomp").CombinedOutput()
		if err != nil {
			helperErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if helperErr != nil {
		t.Skipf("cannot build the libseccomp helper (scripts/deps installs gcc and libseccomp-dev): %v", helperErr)
	}
	return helperPath
}

var scmpArchTokens = map[string]uint32{
	"SCMP_ARCH_X86_64": syscalls.AuditX86_64, "SCMP_ARCH_X86": syscalls.AuditI386, "SCMP_ARCH_X32": 0x4000003e,
	"SCMP_ARCH_AARCH64": syscalls.AuditAARCH64, "SCMP_ARCH_ARM": syscalls.AuditARM,
}

// libseccompCompile feeds the profile's applicable rules to libseccomp and
// returns its program and the names it does not know.
func libseccompCompile(t testing.TB, p *Profile, env Env, badArch Action, optimize int) ([]unix.SockFilter, []string) {
	t.Helper()
	helper := libseccompHelper(t)
	env = env.withDefaults()
	k, _ := parseKernel(env.Kernel)
	var in strings.Builder
	fmt.Fprintf(&in, "default %d\nbadarch %d\noptimize %d\n", p.DefaultAction.Ret(), badArch.Ret(), optimize)
	for _, a := range p.filterArches(env.Arch) {
		fmt.Fprintf(&in, "arch %d\n", scmpArchTokens[a])
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if !r.applies(env, k) {
			continue
		}
		for _, n := range r.Names {
			fmt.Fprintf(&in, "rule %d %s %d", r.Action.Ret(), n, len(r.Args))
			for _, a := range r.Args {
				fmt.Fprintf(&in, " %d %d %d %d", a.Index, a.Op, a.Value, a.ValueTwo)
			}
			in.WriteString("\n")
		}
	}
	cmd := exec.Command(helper)
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("libseccomp helper: %v: %s", err, stderr.String())
	}
	var unknown []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if n, ok := strings.CutPrefix(l, "unknown "); ok {
			unknown = append(unknown, n)
		}
	}
	prog := make([]unix.SockFilter, len(out)/8)
	if err := binary.Read(bytes.NewReader(out), binary.NativeEndian, prog); err != nil {
		t.Fatal(err)
	}
	return prog, unknown
}

// cmpStats are executed-instruction counts over allowed calls.
type cmpStats struct{ calls, sum, max int }

func (s *cmpStats) add(n int) { s.calls, s.sum, s.max = s.calls+1, s.sum+n, max(s.max, n) }
func (s cmpStats) String() string {
	return fmt.Sprintf("%.2f mean, %d max over %d allowed calls", float64(s.sum)/float64(max(s.calls, 1)), s.max, s.calls)
}

// differential runs trustbox's and libseccomp's programs for every call
// number of every filter arch and argument edge values and fails on the
// first different decision. Calls libseccomp cannot name are skipped and
// returned.
func differential(t *testing.T, p *Profile, env Env, optimize int) (ours, theirs cmpStats, unknown []string) {
	t.Helper()
	opts := Options{Env: env, Ptrace: PtraceAllow, DefaultForUnknown: true}
	prog, err := Compile(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	lib, unknown := libseccompCompile(t, p, env, opts.BadArch, optimize)
	skip := map[string]bool{}
	for _, n := range unknown {
		skip[n] = true
	}
	pl, err := p.resolve(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, ap := range pl.arches {
		for _, nr := range ap.arch.Numbers() {
			name, _ := ap.arch.CallName(nr)
			if skip[name] {
				continue
			}
			vals := []uint64{0}
			if c := ap.calls[nr]; c != nil {
				conds, _ := c.outcome(pl.def)
				vals = append(vals, edgeValues(conds)...)
			}
			if d := (bpfsim.Data{Nr: nr, Arch: ap.arch.Audit}); true {
				a, _ := bpfsim.Run(prog.Filter, d)
				b, _ := bpfsim.Run(lib, d)
				if a.Action == retAllow {
					ours.add(a.Executed)
					theirs.add(b.Executed)
				}
			}
			for _, v := range vals {
				if ap.arch.Bits == 32 || ap.arch.NrBase != 0 {
					v = uint64(uint32(v)) // libseccomp compares 32 bits on x86, x32 and arm
				}
				for i := 0; i < 6; i++ {
					d := bpfsim.Data{Nr: nr, Arch: ap.arch.Audit}
					d.Args[i] = v
					a, err1 := bpfsim.Run(prog.Filter, d)
					b, err2 := bpfsim.Run(lib, d)
					if err1 != nil || err2 != nil {
						t.Fatalf("%s %s: %v %v", ap.arch.Name, name, err1, err2)
					}
					if a.Action != b.Action {
						t.Fatalf("%s %s arg%d=%#x: trustbox says %s, libseccomp says %s", ap.arch.Name, name, i, v, ActionFromRet(a.Action), ActionFromRet(b.Action))
					}
				}
			}
		}
	}
	sort.Strings(unknown)
	return ours, theirs, unknown
}

// Docker's default profile (several capability sets and kernels) and
// trustbox's built-ins decide exactly as libseccomp 2.5.4 compiles them,
// for every call number libseccomp knows and argument edge values.
func TestDifferentialLibseccomp(t *testing.T) {
	docker := loadProfile(t, "testdata/docker-default.json")
	for name, env := range dockerEnvs {
		if env.Arch != "SCMP_ARCH_X86_64" {
			continue
		}
		for _, opt := range []int{1, 2} {
			ours, theirs, unknown := differential(t, docker, env, opt)
			t.Logf("docker %s, libseccomp optimize=%d: trustbox %v; libseccomp %v; names libseccomp lacks: %v", name, opt, ours, theirs, unknown)
		}
	}
	for _, name := range BuiltinNames() {
		p, _ := Builtin(name)
		ours, theirs, _ := differential(t, p, Env{Arch: "SCMP_ARCH_X86_64", Kernel: "6.18"}, 2)
		t.Logf("%s: trustbox %v; libseccomp tree %v", name, ours, theirs)
	}
}
