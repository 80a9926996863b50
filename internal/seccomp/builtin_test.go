package seccomp

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/trustbox/trustbox/internal/testutil"
)

// Every built-in profile compiles without a ptrace override (R-LSM-e), is
// proved against its own rules on every arch, and survives a JSON round trip.
func TestBuiltinProfilesProved(t *testing.T) {
	for _, name := range BuiltinNames() {
		p, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, arch := range []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"} {
			st := proveProgram(t, p, Options{Env: Env{Arch: arch, Kernel: "6.18"}})
			t.Logf("%s on %s: %.2f instructions per allowed call on average, %d at most", name, arch, float64(st.executed)/float64(max(st.calls, 1)), st.maxExec)
		}
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(data)
		if err != nil {
			t.Fatalf("%s: re-parse: %v\n%s", name, err, data)
		}
		again, _ := json.Marshal(back)
		if !bytes.Equal(data, again) {
			t.Errorf("%s: JSON round trip changed the profile", name)
		}
	}
	if _, err := Builtin("nope"); err == nil {
		t.Error("unknown built-in profile accepted")
	}
}

// Whitelist and Blacklist never overlap, and all their names are real calls.
func TestListsDisjointAndKnown(t *testing.T) {
	bl := BlacklistSet()
	for _, n := range append(append([]string(nil), Whitelist...), Minimal...) {
		if _, bad := bl[n]; bad {
			t.Errorf("%s is both whitelisted and blacklisted", n)
		}
		if !knownName(n) {
			t.Errorf("whitelisted %q is not a system call", n)
		}
	}
	for n := range bl {
		if !knownName(n) {
			t.Errorf("blacklisted %q is not a system call", n)
		}
	}
}

// The default and strict profiles run real programs: the Go runtime up to
// execve, then busybox's shell, file and process tools. A blacklisted call
// (here chroot, after start) kills the process with SIGSYS.
func TestBuiltinRunsBusybox(t *testing.T) {
	testutil.RequiresRoot(t)
	bb := testutil.RequiresBinary(t, "busybox")
	if runtime.GOARCH != "amd64" {
		t.Skip("x86_64 only")
	}
	cases := []struct {
		profile, script string
		wantOut         string
		wantSig         syscall.Signal
	}{
		{"default", "echo hi > /tmp/tbx.$$ && cat /tmp/tbx.$$ && rm /tmp/tbx.$$ && ls / >/dev/null && id -u && (sleep 0; true) && echo done", "hi\n0\ndone\n", 0},
		{"strict", "echo hi | cat && ps >/dev/null && echo done", "hi\ndone\n", 0},
		{"default", "chroot / true; echo survived", "", syscall.SIGSYS},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "TRUSTBOX_SECCOMP_CHILD=exec", "TRUSTBOX_SECCOMP_PROFILE="+c.profile,
			"TRUSTBOX_SECCOMP_ARGV="+bb+"\x1fsh\x1f-c\x1f"+c.script)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if c.wantSig != 0 {
			// the shell's child dies; the shell reports 128+31 or dies itself
			if strings.Contains(out.String(), "survived") && !strings.Contains(errb.String(), "Bad system call") && err == nil {
				t.Errorf("%s: %q ran the blacklisted call without being killed: %s", c.profile, c.script, out.String())
			}
			continue
		}
		if err != nil || out.String() != c.wantOut {
			t.Errorf("%s: %q: got %q, %v (stderr %q), want %q", c.profile, c.script, out.String(), err, errb.String(), c.wantOut)
		}
	}
}
