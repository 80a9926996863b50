package seccomp

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Whitelist is the `default` profile's list of calls ordinary applications
// use (libc, language runtimes, servers, shells), allowed without argument
// checks. Derived from Docker's default list minus everything in Blacklist
// and the time-adjusting calls.
var Whitelist = strings.Fields(`
accept accept4 access alarm arch_prctl bind brk cachestat capget capset chdir chmod chown chown32
clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl
epoll_pwait epoll_pwait2 epoll_wait eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2
fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat
fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64
fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid
getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom
getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname
getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch
inotify_init inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioctl ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount
listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise
map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2
mlockall mmap mmap2 modify_ldt mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv
msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat
openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll
ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64
pwritev pwritev2 read readahead readlink readlinkat readv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr removexattrat rename renameat renameat2 restart_syscall rmdir rseq
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam
sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 sendfile sendfile64
sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statmount statx symlink symlinkat
sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid
write writev`)

// Minimal is R-LSM-d's minimal whitelist: signal handling, read, write, exit.
var Minimal = strings.Fields(`read write exit exit_group rt_sigreturn sigreturn rt_sigaction rt_sigprocmask sigaltstack restart_syscall`)

// BuiltinNames lists trustbox's own profiles.
func BuiltinNames() []string { return []string{"default", "strict", "minimal"} }

// Builtin returns one of trustbox's own profiles:
//   - default: Whitelist allowed, argument-checked clone/unshare/personality/
//     socket, Blacklist killed, anything else refused with EPERM
//     (ENOSYS for calls newer than trustbox, and for clone3, so libc falls
//     back to calls whose arguments the filter can check);
//   - strict: the same lists, but any call outside them kills (R-LSM-d);
//   - minimal: only R-LSM-d's minimal whitelist, kill otherwise (R-ISO-1).
func Builtin(name string) (*Profile, error) {
	p := &Profile{ArchMap: []ArchMap{
		{Arch: "SCMP_ARCH_X86_64", Subs: []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
		{Arch: "SCMP_ARCH_AARCH64", Subs: []string{"SCMP_ARCH_ARM"}},
	}}
	kill := Action{Kind: KillProcess}
	allow := Action{Kind: Allow}
	switch name {
	case "default":
		p.DefaultAction = Action{Kind: Errno, Data: uint16(unix.EPERM)}
	case "strict":
		p.DefaultAction = kill
	case "minimal":
		p.DefaultAction = kill
		p.Rules = append(p.Rules, Rule{Names: Minimal, Action: allow, Comment: "R-LSM-d minimal whitelist"})
		p.Rules = append(p.Rules, Rule{Names: blacklistNames(), Action: kill, Comment: "R-LSM-c blacklist: kill and report"})
		return numbered(p), nil
	default:
		return nil, fmt.Errorf("no built-in seccomp profile %q (have %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	p.Rules = append(p.Rules,
		Rule{Names: Whitelist, Action: allow, Comment: "ordinary applications (R-LSM-c whitelist)"},
		Rule{Names: blacklistNames(), Action: kill, Comment: "R-LSM-c blacklist: kill and report (R-OPS-6)"},
		Rule{Names: []string{"clone3"}, Action: Action{Kind: Errno, Data: uint16(unix.ENOSYS)}, Comment: "flags live in memory the filter cannot read: ENOSYS makes libc fall back to clone"},
		Rule{Names: []string{"clone"}, Action: allow, Args: []Arg{{Index: 0, Value: cloneNSMask, Op: OpMaskedEQ}}, Comment: "threads and processes, no new namespaces"},
		Rule{Names: []string{"clone", "unshare"}, Action: kill, Args: []Arg{{Index: 0, Value: cloneNewUser, ValueTwo: cloneNewUser, Op: OpMaskedEQ}}, Comment: "new user namespaces: kill and report; other new namespaces get the default action"},
		Rule{Names: []string{"unshare"}, Action: allow, Args: []Arg{{Index: 0, Value: unshareNSMask, Op: OpMaskedEQ}}, Comment: "unsharing files, fs or SysV semaphores"},
	)
	// socket(2) and personality(2) take int arguments: the kernel ignores
	// the upper 32 bits, so only the low word is compared (MASKED_EQ).
	for _, fam := range allowedFamilies {
		p.Rules = append(p.Rules, Rule{Names: []string{"socket"}, Action: allow, Args: []Arg{{Index: 0, Value: 0xffffffff, ValueTwo: fam, Op: OpMaskedEQ}}, Comment: "address families ordinary applications use"})
	}
	for _, v := range allowedPersonalities {
		p.Rules = append(p.Rules, Rule{Names: []string{"personality"}, Action: allow, Args: []Arg{{Index: 0, Value: 0xffffffff, ValueTwo: v, Op: OpMaskedEQ}}, Comment: "query or standard personas; changes get the default action"})
	}
	return numbered(p), nil
}

func numbered(p *Profile) *Profile {
	for i := range p.Rules {
		p.Rules[i].Index = i
	}
	return p
}

func blacklistNames() []string {
	out := make([]string, 0, len(Blacklist))
	for _, b := range Blacklist {
		out = append(out, b.Name)
	}
	sort.Strings(out)
	return out
}
