package seccomp

// Banned is one always-refused call and why (R-LSM-c blacklist).
type Banned struct {
	Name   string
	Reason string
}

// Blacklist holds the calls trustbox's own profiles kill and report
// (R-LSM-c, R-TRUST-5, R-LSM-g, R-OPS-6): module loading, kexec, reboot,
// mounting, clock setting, kernel-extension and cross-process inspection
// interfaces. Lint flags any profile that allows one of them.
var Blacklist = []Banned{
	{"init_module", "loads kernel code (R-TRUST-5)"},
	{"finit_module", "loads kernel code (R-TRUST-5)"},
	{"delete_module", "unloads kernel code"},
	{"create_module", "obsolete module interface"},
	{"get_kernel_syms", "obsolete module interface, leaks kernel symbols"},
	{"query_module", "obsolete module interface"},
	{"kexec_load", "replaces the running kernel"},
	{"kexec_file_load", "replaces the running kernel"},
	{"reboot", "reboots or halts the host"},
	{"mount", "mounts over enforcement (R-LSM-g)"},
	{"umount", "unmounts masks (R-LSM-g)"},
	{"umount2", "unmounts masks (R-LSM-g)"},
	{"fsopen", "new mount API (R-LSM-g)"},
	{"fsconfig", "new mount API (R-LSM-g)"},
	{"fsmount", "new mount API (R-LSM-g)"},
	{"move_mount", "new mount API (R-LSM-g)"},
	{"open_tree", "new mount API: clones mounts (R-LSM-g)"},
	{"open_tree_attr", "new mount API (R-LSM-g)"},
	{"fspick", "new mount API: reconfigures mounts (R-LSM-g)"},
	{"mount_setattr", "new mount API: changes mount flags (R-LSM-g)"},
	{"swapon", "host memory management"},
	{"swapoff", "host memory management"},
	{"pivot_root", "changes the root after start"},
	{"chroot", "changes the root after start; chroot escapes"},
	{"acct", "host process accounting"},
	{"settimeofday", "sets the host clock"},
	{"stime", "sets the host clock"},
	{"clock_settime", "sets the host clock"},
	{"clock_settime64", "sets the host clock"},
	{"bpf", "loads kernel programs; large attack surface"},
	{"perf_event_open", "kernel profiling; side channels and frequent CVEs"},
	{"add_key", "kernel keyrings are not namespaced"},
	{"request_key", "kernel keyrings are not namespaced"},
	{"keyctl", "kernel keyrings are not namespaced"},
	{"userfaultfd", "widens kernel race windows for exploits"},
	{"open_by_handle_at", "opens host files by handle (shocker escape)"},
	{"iopl", "raw port I/O"},
	{"ioperm", "raw port I/O"},
	{"process_vm_readv", "reads another process's memory"},
	{"process_vm_writev", "writes another process's memory"},
	{"ptrace", "a tracer can rewrite calls past the filter (R-LSM-e)"},
	{"kcmp", "compares other processes' kernel objects"},
	{"pidfd_getfd", "steals another process's file descriptors"},
	{"quotactl", "host quota administration"},
	{"quotactl_fd", "host quota administration"},
	{"nfsservctl", "obsolete NFS server control"},
	{"uselib", "obsolete, exploited loader interface"},
	{"vm86", "virtual 8086 mode"},
	{"vm86old", "virtual 8086 mode"},
	{"lookup_dcookie", "kernel profiling interface"},
	{"syslog", "reads and clears the kernel log"},
	{"vhangup", "hangs up the host terminal"},
	{"setns", "joins other namespaces"},
	{"fanotify_init", "watches host file systems"},
	{"lsm_set_self_attr", "changes the process's LSM labels (R-LSM-a)"},
}

// BlacklistSet returns Blacklist as a set of names.
func BlacklistSet() map[string]string {
	m := make(map[string]string, len(Blacklist))
	for _, b := range Blacklist {
		m[b.Name] = b.Reason
	}
	return m
}

// Namespace and persona constants used by the argument rules.
const (
	cloneNewUser  = 0x10000000
	cloneNSMask   = 0x7e020000 // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
	unshareNSMask = cloneNSMask | 0x80
)

// allowedPersonalities are the personality(2) values ordinary programs use:
// PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32 and the query 0xffffffff.
var allowedPersonalities = []uint64{0, 8, 0x20000, 0x20008, 0xffffffff}

// allowedFamilies are AF_UNIX, AF_INET, AF_INET6, AF_NETLINK and AF_PACKET.
var allowedFamilies = []uint64{1, 2, 10, 16, 17}
