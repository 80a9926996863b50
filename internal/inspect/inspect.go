package inspect

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Report is what the inspector prints (JSON), read from inside the container.
type Report struct {
	UIDMap       string            `json:"uidMap"`
	Namespaces   map[string]string `json:"namespaces"`
	CapEffective []string          `json:"capEffective"`
	CapBounding  []string          `json:"capBounding"`
	NoNewPrivs   bool              `json:"noNewPrivs"`
	Seccomp      string            `json:"seccomp"`
	Masked       map[string]bool   `json:"masked"`
	Attempts     []Attempt         `json:"attempts"`
	TPM          TPM               `json:"tpm"`
}

// Attempt is one forbidden operation, tried in a child process.
type Attempt struct {
	Op      string `json:"op"`
	Outcome string `json:"outcome"`
	Blocked bool   `json:"blocked"`
}

// Main is the inspector's entry: with no arguments it reports; "try OP" performs one operation.
func Main(args []string) int {
	if len(args) == 3 && args[1] == "try" {
		return try(args[2])
	}
	r := Collect()
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Collect reads the process's own confinement and runs every attempt.
func Collect() Report {
	status := readStatus()
	r := Report{
		UIDMap:       strings.Join(strings.Fields(readFile("/proc/self/uid_map")), " "),
		Namespaces:   map[string]string{},
		CapEffective: capNames(status["CapEff"]),
		CapBounding:  capNames(status["CapBnd"]),
		NoNewPrivs:   status["NoNewPrivs"] == "1",
		Seccomp:      map[string]string{"0": "disabled", "1": "strict", "2": "filter"}[status["Seccomp"]],
		Masked:       map[string]bool{},
	}
	for _, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"} {
		l, _ := os.Readlink("/proc/self/ns/" + ns)
		r.Namespaces[ns] = l
	}
	for _, p := range []string{"/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"} {
		r.Masked[p] = masked(p)
	}
	r.TPM = readTPM()
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Attempts = append(r.Attempts, attempt(n))
	}
	return r
}

// attempt re-executes the inspector to try one operation and reports how the child ended.
func attempt(op string) Attempt {
	cmd := exec.Command("/proc/self/exe", "try", op)
	out, err := cmd.CombinedOutput()
	msg := strings.TrimSpace(string(out))
	a := Attempt{Op: op}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			a.Outcome, a.Blocked = "killed by "+ws.Signal().String()+" (seccomp)", ws.Signal() == syscall.SIGSYS
			return a
		}
		a.Outcome, a.Blocked = "refused: "+msg, true
		return a
	}
	if err != nil {
		a.Outcome = "could not run: " + err.Error()
		return a
	}
	a.Outcome = "ALLOWED: " + msg
	return a
}

func masked(p string) bool {
	st, err := os.Stat(p)
	if err != nil {
		return true
	}
	if st.IsDir() {
		ents, _ := os.ReadDir(p)
		return len(ents) == 0
	}
	data, _ := os.ReadFile(p)
	return len(data) == 0
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func readStatus() map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(readFile("/proc/self/status"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

var capList = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
	"AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}

func capNames(hex string) []string {
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return nil
	}
	out := []string{}
	for i, n := range capList {
		if v&(1<<uint(i)) != 0 {
			out = append(out, "CAP_"+n)
		}
	}
	return out
}
