package seccomp

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/trustbox/trustbox/internal/seccomp/syscalls"
	"github.com/trustbox/trustbox/internal/testutil"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	MaybeLearnChild()
	if scenario := os.Getenv("TRUSTBOX_SECCOMP_CHILD"); scenario != "" {
		os.Exit(childMain(scenario))
	}
	os.Exit(m.Run())
}

const childProfile = `{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"},
    {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42},
    {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 43, "args": [{"index": 0, "value": 8589934591, "op": "SCMP_CMP_EQ"}]},
    {"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"}
  ]
}`

// childMain runs in a re-executed test binary: it installs the filter and
// reports what the real kernel answered.
func childMain(scenario string) int {
	runtime.LockOSThread()
	if scenario == "exec" {
		return execChild()
	}
	if scenario == "i386" {
		return i386Child()
	}
	p, err := Parse([]byte(childProfile))
	if err != nil {
		fmt.Println("parse:", err)
		return 2
	}
	prog, err := Compile(p, Options{})
	if err != nil {
		fmt.Println("compile:", err)
		return 2
	}
	if _, err := Install(prog); err != nil {
		fmt.Println("install:", err)
		return 2
	}
	status, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "Seccomp") {
			fmt.Println(strings.Join(strings.Fields(l), " "))
		}
	}
	call := func(name string, nr uintptr, a0 uintptr) {
		_, _, e := unix.Syscall(nr, a0, 0, 0)
		fmt.Printf("%s errno=%d\n", name, e)
	}
	call("getppid", unix.SYS_GETPPID, 0)
	call("x32 getppid", uintptr(syscalls.X32Bit)+110, 0)
	call("personality query", unix.SYS_PERSONALITY, 0xffffffff)
	call("personality high word", unix.SYS_PERSONALITY, 1<<32|0xffffffff)
	call("getpid", unix.SYS_GETPID, 0)
	call("uname", unix.SYS_UNAME, 0)
	fmt.Println("survived uname")
	return 0
}

// A compiled filter installed in a real child process: errno actions,
// exact 64-bit argument checks, x32 kept apart from x86_64, kill on a
// blacklisted call, and exactly one filter loaded (never a stack).
func TestInstallInChild(t *testing.T) {
	testutil.RequiresRoot(t)
	if runtime.GOARCH != "amd64" {
		t.Skip("the child profile is written for x86_64")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRUSTBOX_SECCOMP_CHILD=basic")
	out, err := cmd.Output()
	got := string(out)
	for _, want := range []string{
		"Seccomp: 2", "Seccomp_filters: 1",
		"getppid errno=42", "x32 getppid errno=42",
		"personality query errno=0", "personality high word errno=43",
		"getpid errno=0",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("child output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "survived uname") {
		t.Error("uname ran although the filter kills it")
	}
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGSYS {
		t.Errorf("child ended with %v, want death by SIGSYS", err)
	}
}

// execChild installs a built-in profile and executes the given argv.
func execChild() int {
	p, err := Builtin(os.Getenv("TRUSTBOX_SECCOMP_PROFILE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	prog, err := Compile(p, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	argv := strings.Split(os.Getenv("TRUSTBOX_SECCOMP_ARGV"), "\x1f")
	if _, err := Install(prog); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	err = syscall.Exec(argv[0], argv[1:], []string{"PATH=/bin:/usr/bin"})
	fmt.Fprintln(os.Stderr, "exec:", err)
	return 2
}

// i386Child installs childProfile and executes the int $0x80 helper.
func i386Child() int {
	p, _ := Parse([]byte(childProfile))
	prog, err := Compile(p, Options{})
	if err != nil {
		fmt.Println("compile:", err)
		return 2
	}
	if _, err := Install(prog); err != nil {
		fmt.Println("install:", err)
		return 2
	}
	helper := os.Getenv("TRUSTBOX_SECCOMP_I386")
	err = syscall.Exec(helper, []string{helper}, nil)
	fmt.Println("exec:", err)
	return 2
}

// The x86 (i386) section on the real kernel: a 64-bit process entering
// through int $0x80 is filtered as AUDIT_ARCH_I386 with i386 numbers.
func TestInstallI386(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.RequiresBinary(t, "gcc")
	if runtime.GOARCH != "amd64" {
		t.Skip("x86_64 only")
	}
	if _, err := os.Stat("/proc/sys/abi/vsyscall32"); err != nil {
		t.Skip("kernel without IA32 emulation")
	}
	helper := filepath.Join(t.TempDir(), "i386")
	if out, err := exec.Command("gcc", "-O2", "-static", "-o", helper, "testdata/i386/i386.c").CombinedOutput(); err != nil {
		t.Skipf("cannot build the int $0x80 helper: %v: %s", err, out)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TRUSTBOX_SECCOMP_CHILD=i386", "TRUSTBOX_SECCOMP_I386="+helper)
	out, err := cmd.CombinedOutput()
	for _, want := range []string{"i386 getppid ret=-42\n", "i386 getpid ok=1\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("helper output lacks %q (%v):\n%s", want, err, out)
		}
	}
}
