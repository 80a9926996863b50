package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/spec"
	"github.com/trustbox/trustbox/internal/testutil"
)

// exec joins every namespace of a running container (through the nsenter
// constructor), its cgroup and its confinement, and returns the exit status.
func TestExec(t *testing.T) {
	e := newEnv(t)
	b := e.bundle([]string{"sleep", "1000"})
	e.must("run", "-d", "--bundle", b, "e2e-exec")
	defer e.run("delete", "-f", "e2e-exec")
	st := e.state("e2e-exec")

	r := e.run("exec", "e2e-exec", "sh", "-c", "exit 5")
	if r.code != 5 {
		t.Fatalf("exit %d, want 5: %s", r.code, r.stderr)
	}
	out := e.must("exec", "--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1000", "e2e-exec", "sh", "-c", probeScript+`
echo "foo=$FOO"; echo "pwd=$(pwd)"; echo "id=$(id -u):$(id -g)"; echo "pidns1=$(cat /proc/1/cmdline | tr '\0' ' ')"
echo "cgroup=$(grep pids /proc/self/cgroup | cut -d: -f3)"`)
	checkProbe(t, parseProbe(out), map[string]string{
		"uidmap": "0 100000 65536", "nnp": "1", "procsys": "ro", "rootfs": "ro", "hostname": "trustbox",
		"fds": "4", "foo": "bar", "pwd": "/tmp", "id": "1000:1000", "pidns1": "sleep 1000", "cgroup": "/",
		"capeff": "0000000000000000",
	})

	proc := specs.Process{Args: []string{"sh", "-c", "echo from-file; exit 2"}, Cwd: "/", Env: []string{"PATH=/bin"}}
	pf := filepath.Join(t.TempDir(), "process.json")
	data, _ := json.Marshal(proc)
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.run("exec", "--process", pf, "e2e-exec"); r.code != 2 || strings.TrimSpace(r.stdout) != "from-file" {
		t.Fatalf("--process: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	e.must("exec", "--detach", "--pid-file", pidFile, "e2e-exec", "sleep", "1000")
	if p, _ := os.ReadFile(pidFile); len(p) == 0 {
		t.Fatal("exec --detach wrote no pid file")
	}
	var pids []int
	_ = json.Unmarshal([]byte(e.must("ps", "--format", "json", "e2e-exec")), &pids)
	if len(pids) != 2 {
		t.Fatalf("ps after detached exec: %v", pids)
	}
	if r := e.run("exec", "--cap", "CAP_SYS_ADMIN", "e2e-exec", "true"); r.code == 0 || !strings.Contains(r.stderr, "R-LSM-g") {
		t.Fatalf("exec with a forbidden capability: exit %d %s", r.code, r.stderr)
	}
	if r := e.run("exec", "e2e-exec", "/nonexistent"); r.code == 0 || !strings.Contains(r.stderr, "nonexistent") {
		t.Fatalf("exec of a missing binary: exit %d %s", r.code, r.stderr)
	}
	e.must("kill", "e2e-exec", "KILL")
	waitExit(t, st.Pid)
	if r := e.run("exec", "e2e-exec", "true"); r.code == 0 || !strings.Contains(r.stderr, "stopped") {
		t.Fatalf("exec into a stopped container: exit %d %s", r.code, r.stderr)
	}
}

// A namespace given by path (Podman's and CNI's netns) is joined, not created.
func TestJoinNetworkNamespaceByPath(t *testing.T) {
	e := newEnv(t)
	ip := testutil.RequiresBinary(t, "ip")
	name := "tb-e2e-" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer exec.Command(ip, "netns", "delete", name).Run()
	path := "/run/netns/" + name
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	b := e.bundle([]string{"readlink", "/proc/self/ns/net"}, func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			switch n.Type {
			case specs.UserNamespace:
			case specs.NetworkNamespace:
				ns = append(ns, specs.LinuxNamespace{Type: n.Type, Path: path})
			default:
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces, s.Linux.UIDMappings, s.Linux.GIDMappings = ns, nil, nil
	})
	r := e.runIn(b, nil, "run", "e2e-netns")
	if want := "net:[" + strconv.FormatUint(st.Ino, 10) + "]"; r.code != 0 || strings.TrimSpace(r.stdout) != want {
		t.Fatalf("exit %d: got %q want %q (%s)", r.code, r.stdout, want, r.stderr)
	}
}

// A Kubernetes-style pod: a second container joins the first one's user,
// pid, ipc, uts and network namespaces by path and gets its own mount and
// cgroup namespaces; it sees the first one's processes and is root of the
// shared user namespace.
func TestJoinPodNamespaces(t *testing.T) {
	e := newEnv(t)
	sandbox := e.bundle([]string{"sleep", "1000"})
	e.must("run", "-d", "--bundle", sandbox, "e2e-pod-sandbox")
	defer e.run("delete", "-f", "e2e-pod-sandbox")
	pid := e.state("e2e-pod-sandbox").Pid
	userns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	b := e.bundle([]string{"sh", "-c", "readlink /proc/self/ns/user; id -u; ps -o comm | grep -c sleep"}, func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			switch n.Type {
			case specs.UserNamespace, specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace:
				n.Path = fmt.Sprintf("/proc/%d/ns/%s", pid, map[specs.LinuxNamespaceType]string{
					specs.UserNamespace: "user", specs.PIDNamespace: "pid", specs.IPCNamespace: "ipc",
					specs.UTSNamespace: "uts", specs.NetworkNamespace: "net"}[n.Type])
			}
			ns = append(ns, n)
		}
		s.Linux.Namespaces, s.Linux.UIDMappings, s.Linux.GIDMappings = ns, nil, nil
	})
	r := e.runIn(b, nil, "run", "e2e-pod-app")
	if r.code != 0 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	if got := strings.Fields(r.stdout); len(got) != 3 || got[0] != userns || got[1] != "0" || got[2] != "1" {
		t.Fatalf("inside the pod container: %q, want %s, uid 0 and the sandbox's sleep", r.stdout, userns)
	}
}

// A CNI-style network namespace joined by path next to a new user namespace:
// the constructor joins it as host root, then creates the user namespace,
// whose maps the runtime writes from outside.
func TestJoinNetnsWithNewUserns(t *testing.T) {
	e := newEnv(t)
	ip := testutil.RequiresBinary(t, "ip")
	name := "tb-e2e-u-" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command(ip, "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	defer exec.Command(ip, "netns", "delete", name).Run()
	path := "/run/netns/" + name
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	b := e.bundle([]string{"sh", "-c", "readlink /proc/self/ns/net; tr -s ' ' < /proc/self/uid_map; id -u; ls /bin/sh"}, func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
	})
	r := e.runIn(b, nil, "run", "e2e-netns-userns")
	want := "net:[" + strconv.FormatUint(st.Ino, 10) + "] 0 100000 65536 0 /bin/sh"
	if got := strings.Join(strings.Fields(r.stdout), " "); r.code != 0 || got != want {
		t.Fatalf("exit %d: got %q want %q (%s)", r.code, got, want, r.stderr)
	}
}

// linux.timeOffsets: a new time namespace whose clocks start offset (the
// nsenter constructor unshares it, writes the offsets before any process
// enters, then forks init into it). /proc/uptime reads the boottime clock.
func TestTimeNamespaceOffsets(t *testing.T) {
	if _, err := os.Stat("/proc/self/timens_offsets"); err != nil {
		t.Skip("kernel without time namespaces (CONFIG_TIME_NS)")
	}
	e := newEnv(t)
	b := e.bundle([]string{"sh", "-c", "cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime"}, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 3600}, "boottime": {Secs: 1000000, Nanosecs: 5}}
	})
	r := e.runIn(b, nil, "run", "e2e-timens")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "monotonic 3600 0" || strings.Join(strings.Fields(lines[1]), " ") != "boottime 1000000 5" {
		t.Fatalf("offsets inside: %q", r.stdout)
	}
	up, err := strconv.Atoi(lines[2])
	if err != nil || up < 1000000 {
		t.Fatalf("uptime inside %q: want the boottime offset (1000000 s) added", lines[2])
	}
	// The host's clocks are untouched.
	host, _ := os.ReadFile("/proc/uptime")
	if h, _ := strconv.Atoi(strings.SplitN(string(host), ".", 2)[0]); h >= 1000000 {
		t.Fatalf("host uptime %d: the offset leaked out", h)
	}
}

// joinMountOf rewrites a spec to join pid's user and mount namespaces by
// path; the config then asks for no mounts of its own.
func joinMountOf(pid int) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			switch n.Type {
			case specs.UserNamespace:
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/user", pid)
			case specs.MountNamespace:
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/mnt", pid)
			}
		}
		s.Linux.UIDMappings, s.Linux.GIDMappings, s.Mounts = nil, nil, nil
	}
}

// A container joining a running container's mount namespace by path shares
// its filesystem view as it is (R-ISO-3): it sees the other's /tmp and its
// masking, gets its own pid namespace and hostname, and leaves the other
// container's mounts untouched, where runc would mount and pivot in it.
func TestJoinMountNamespaceByPath(t *testing.T) {
	e := newEnv(t)
	owner := e.bundle([]string{"sleep", "1000"})
	e.must("run", "-d", "--bundle", owner, "e2e-mntns-owner")
	defer e.run("delete", "-f", "e2e-mntns-owner")
	pid := e.state("e2e-mntns-owner").Pid
	before, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	e.must("exec", "e2e-mntns-owner", "sh", "-c", "echo from-owner > /tmp/marker")

	b := e.bundle([]string{"sh", "-c", probeScript + `echo "marker=$(cat /tmp/marker)"; echo from-joiner > /tmp/joiner`},
		joinMountOf(pid), func(s *specs.Spec) { s.Hostname = "joiner" })
	r := e.runIn(b, nil, "run", "e2e-mntns-joiner")
	if r.code != 0 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	got := parseProbe(r.stdout)
	// /proc is the owner's, mounted for its pid namespace: /proc/self does
	// not resolve for the joiner, which has a pid namespace of its own.
	checkProbe(t, got, map[string]string{
		"marker": "from-owner", "procsys": "ro", "sysfs": "ro", "cgroupfs": "ro", "rootfs": "ro",
		"mount": "denied", "hostname": "joiner", "keys": "0",
	})
	if out := e.must("exec", "e2e-mntns-owner", "cat", "/tmp/joiner"); strings.TrimSpace(out) != "from-joiner" {
		t.Fatalf("the owner reads %q from the joiner's file", out)
	}
	// With a user namespace of its own (same mapping), not the owner's.
	b2 := e.bundle([]string{"cat", "/tmp/joiner"}, joinMountOf(pid), func(s *specs.Spec) {
		d := spec.Default(false, 0, 0)
		s.Linux.Namespaces = slicesMap(s.Linux.Namespaces, specs.UserNamespace, "")
		s.Linux.UIDMappings, s.Linux.GIDMappings = d.Linux.UIDMappings, d.Linux.GIDMappings
	})
	if r := e.runIn(b2, nil, "run", "e2e-mntns-joiner2"); r.code != 0 || strings.TrimSpace(r.stdout) != "from-joiner" {
		t.Fatalf("joiner with its own user namespace: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	after, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Fatalf("the owner's mounts changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if r := e.run("state", "e2e-mntns-joiner"); r.code == 0 {
		t.Fatalf("run left the joiner's state behind: %s", r.stdout)
	}
}

// What a joined mount namespace cannot give is refused before anything is
// made: the host's namespace, mounts of the config's own, masking the
// owner does not have (R-ISO-3, R-LSM-g).
func TestJoinMountNamespaceRefusals(t *testing.T) {
	e := newEnv(t)
	owner := e.bundle([]string{"sleep", "1000"})
	e.must("run", "-d", "--bundle", owner, "e2e-mntns-owner2")
	defer e.run("delete", "-f", "e2e-mntns-owner2")
	pid := e.state("e2e-mntns-owner2").Pid
	for _, c := range []struct {
		name   string
		mutate func(*specs.Spec)
		want   string
	}{
		{"host namespace", func(s *specs.Spec) {
			joinMountOf(pid)(s)
			s.Linux.Namespaces = slicesMap(s.Linux.Namespaces, specs.MountNamespace, fmt.Sprintf("/proc/%d/ns/mnt", os.Getpid()))
		}, "is the host's mount namespace"},
		{"the runtime's own namespace", func(s *specs.Spec) {
			joinMountOf(pid)(s)
			s.Linux.Namespaces = slicesMap(s.Linux.Namespaces, specs.MountNamespace, "/proc/self/ns/mnt")
		}, "is the host's mount namespace"},
		{"not a namespace", func(s *specs.Spec) {
			joinMountOf(pid)(s)
			s.Linux.Namespaces = slicesMap(s.Linux.Namespaces, specs.MountNamespace, "/etc/hostname")
		}, "not a namespace file"},
		{"mounts", func(s *specs.Spec) {
			joinMountOf(pid)(s)
			s.Mounts = []specs.Mount{{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs"}}
		}, "mounts: 1 mount(s) requested"},
		{"masking the owner lacks", func(s *specs.Spec) {
			joinMountOf(pid)(s)
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/etc/hostname")
		}, "linux.maskedPaths: /etc/hostname is not masked"},
		{"sysctl", func(s *specs.Spec) {
			joinMountOf(pid)(s)
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "linux.sysctl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := e.bundle([]string{"true"}, c.mutate)
			r := e.runIn(b, nil, "run", "e2e-mntns-refused")
			if r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("exit %d, stderr %q: want one line with %q", r.code, r.stderr, c.want)
			}
		})
	}
}

func slicesMap(ns []specs.LinuxNamespace, t specs.LinuxNamespaceType, path string) []specs.LinuxNamespace {
	for i := range ns {
		if ns[i].Type == t {
			ns[i].Path = path
		}
	}
	return ns
}

// A container still being created is not set up: its init is in a copy of
// the host's mount namespace until it pivots. Neither a join of that
// namespace nor an exec may reach it then (both would land on the host's
// root). A createRuntime hook holds create at that point.
func TestHalfCreatedContainerIsNotJoinable(t *testing.T) {
	e := newEnv(t)
	fifo := filepath.Join(t.TempDir(), "hook.fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	b := e.bundle([]string{"sleep", "1000"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo in-hook > " + fifo + "; exec sleep 1000"}}}}
	})
	cmd := exec.Command(e.bin, "--root", e.root, "create", "--bundle", b, "e2e-half")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := startTracked(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = waitTracked(cmd)
		e.run("delete", "--force", "e2e-half")
	}()
	f, err := os.Open(fifo) // blocks until the hook runs: init waits for it before pivot_root
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Read(make([]byte, 16))
	f.Close()
	var pids []int
	if err := json.Unmarshal([]byte(e.must("ps", "--format", "json", "e2e-half")), &pids); err != nil || len(pids) != 1 {
		t.Fatalf("init during create: %v %v", pids, err)
	}
	if st := e.state("e2e-half"); st.Status != "creating" || st.Pid != 0 {
		t.Errorf("state during create: %s, pid %d; want creating, no pid yet", st.Status, st.Pid)
	}
	if r := e.run("exec", "e2e-half", "ls", "/"); r.code == 0 {
		t.Fatalf("exec into a container being created ran: %s", r.stdout)
	}
	if r := e.run("kill", "e2e-half", "KILL"); r.code == 0 || !strings.Contains(r.stderr, "creating") {
		t.Errorf("kill of a container being created: exit %d %s", r.code, r.stderr)
	}
	joiner := e.bundle([]string{"ls", "/"}, func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if n.Type == specs.MountNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/mnt", pids[0])
			}
		}
		s.Mounts = nil
	})
	if r := e.runIn(joiner, nil, "run", "e2e-half-joiner"); r.code == 0 || !strings.Contains(r.stderr, "linux.namespaces") {
		t.Fatalf("joining a container being created: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
}
