package seccomp

import (
	"fmt"
	"sort"
	"strings"
)

// templateCalls are what each application type needs beyond what one
// recording run shows: paths taken only under load, on errors, at
// shutdown or on a signal (R-LSM-c: whitelist by application type).
var templateCalls = map[string]map[string]string{
	"base": {
		"brk": "libc heap", "mmap": "loader and heap", "munmap": "heap", "mprotect": "loader, RELRO",
		"madvise": "allocators return memory", "arch_prctl": "TLS setup (x86_64)", "set_tid_address": "libc start",
		"set_robust_list": "libc start, threads", "rseq": "glibc 2.35+ start", "prlimit64": "libc start",
		"getrandom": "stack protector, hash seeds", "futex": "locks", "clock_gettime": "time (vDSO fallback)",
		"clock_nanosleep": "sleep", "nanosleep": "sleep", "exit_group": "exit", "exit": "thread exit",
		"rt_sigaction": "signal handling", "rt_sigprocmask": "signal handling", "rt_sigreturn": "signal return",
		"sigaltstack": "Go and Rust runtimes", "restart_syscall": "interrupted sleeps", "getpid": "libc, logging",
		"gettid": "threads, logging", "tgkill": "raise(), Go preemption", "sched_yield": "spin locks",
		"read": "I/O", "write": "I/O, logging", "close": "I/O", "fstat": "stdio buffering", "newfstatat": "stat",
		"openat": "opening files", "lseek": "stdio", "fcntl": "fd flags", "ioctl": "isatty in stdio", "execve": "start",
		"getuid": "libc", "geteuid": "libc", "getgid": "libc", "getegid": "libc", "uname": "libc, runtimes",
		"pread64": "loader", "access": "loader", "faccessat2": "loader (glibc 2.33+)", "readlink": "runtimes: /proc/self/exe",
		"getcwd": "runtimes", "sched_getaffinity": "runtimes size thread pools", "statx": "stat (new libc)",
	},
	"web-server": {
		"socket": "listening and upstream sockets (families checked)", "bind": "listen", "listen": "listen",
		"accept4": "accept connections", "accept": "accept connections", "connect": "upstreams, DNS",
		"setsockopt": "TCP options", "getsockopt": "connect errors", "getsockname": "logging", "getpeername": "logging",
		"shutdown": "half-close", "sendto": "DNS, UDP", "recvfrom": "DNS, UDP", "sendmsg": "HTTP/3, DNS",
		"recvmsg": "HTTP/3, DNS", "sendfile": "static files", "writev": "response headers and body", "readv": "requests",
		"epoll_create1": "event loop", "epoll_ctl": "event loop", "epoll_wait": "event loop", "epoll_pwait": "event loop",
		"eventfd2": "worker wake-ups", "pipe2": "worker wake-ups", "poll": "libc resolver", "clone": "worker threads (namespace flags checked)",
		"wait4": "worker processes", "kill": "signal workers", "getdents64": "directory listings", "openat": "static files",
		"timerfd_create": "timeouts", "timerfd_settime": "timeouts", "setitimer": "timeouts", "dup2": "log redirection", "dup3": "log redirection",
	},
	"database": {
		"fsync": "durability", "fdatasync": "durability", "sync_file_range": "checkpoints", "fallocate": "preallocate files",
		"ftruncate": "files resize", "pread64": "pages", "pwrite64": "pages", "preadv": "pages", "pwritev": "pages",
		"io_setup": "native AIO", "io_submit": "native AIO", "io_getevents": "native AIO", "io_destroy": "native AIO",
		"mremap": "buffers grow", "mlock": "locked buffers", "munlock": "locked buffers", "shmget": "shared buffers",
		"shmat": "shared buffers", "shmdt": "shared buffers", "shmctl": "shared buffers", "semget": "locks", "semop": "locks",
		"semctl": "locks", "flock": "data directory lock", "rename": "atomic file replace", "renameat": "atomic file replace",
		"unlink": "temp files", "unlinkat": "temp files", "mkdir": "data directories", "socket": "client connections (families checked)",
		"bind": "listen", "listen": "listen", "accept4": "clients", "epoll_wait": "event loop", "epoll_ctl": "event loop",
		"epoll_create1": "event loop", "clone": "worker threads (namespace flags checked)", "wait4": "worker processes",
		"getrusage": "statistics", "sysinfo": "memory sizing", "memfd_create": "shared memory",
	},
	"batch": {
		"clone": "child processes (namespace flags checked)", "vfork": "posix_spawn", "wait4": "children", "waitid": "children",
		"pipe2": "pipelines", "dup2": "redirection", "dup3": "redirection", "getdents64": "directory walks",
		"unlinkat": "clean-up", "renameat2": "atomic outputs", "mkdirat": "outputs", "fchmodat": "outputs",
		"utimensat": "preserve times", "chdir": "working directory", "umask": "file modes", "kill": "signal children",
		"getppid": "shells", "setpgid": "job control", "getpgrp": "job control", "sysinfo": "sizing",
	},
}

// Templates lists the application types generate knows.
func Templates() []string {
	var out []string
	for n := range templateCalls {
		if n != "base" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Addition says why generate put a call into (or left it out of) a profile.
type Addition struct {
	Call   string `json:"syscall"`
	Source string `json:"source"` // recording file, template name, "argument rule" or "dropped"
	Reason string `json:"reason"`
}

func (a Addition) String() string { return fmt.Sprintf("%-22s %-14s %s", a.Call, a.Source, a.Reason) }

// Recorded is one recording to generate from: its name (file) and profile.
type Recorded struct {
	Name    string
	Profile *Profile
}

// Generate builds a whitelist profile from recordings plus an application
// template (R-LSM-c): the calls the recordings allowed, the template's
// calls, trustbox's argument rules and its blacklist; strict makes any
// other call kill (R-LSM-d) instead of failing with EPERM.
func Generate(recs []Recorded, template string, strict bool) (*Profile, []Addition, error) {
	_, ok := templateCalls[template]
	if !ok && template != "" {
		return nil, nil, fmt.Errorf("generate: no template %q (have %s)", template, strings.Join(Templates(), ", "))
	}
	builtin := "default"
	if strict {
		builtin = "strict"
	}
	p, err := Builtin(builtin)
	if err != nil {
		return nil, nil, err
	}
	argRuled := map[string]bool{}
	for _, r := range p.Rules {
		if len(r.Args) > 0 || r.Names[0] == "clone3" {
			for _, n := range r.Names {
				argRuled[n] = true
			}
		}
	}
	bl := BlacklistSet()
	chosen := map[string]bool{}
	var adds []Addition
	consider := func(call, source, reason string) {
		switch {
		case chosen[call]:
		case bl[call] != "":
			adds = append(adds, Addition{call, "dropped", "blacklisted: " + bl[call]})
		case argRuled[call]:
			adds = append(adds, Addition{call, "argument rule", "allowed only with trustbox's argument checks (" + source + ")"})
		default:
			adds = append(adds, Addition{call, source, reason})
		}
		chosen[call] = true
	}
	for _, rec := range recs {
		for n := range allowedByBase(rec.Profile) {
			consider(n, rec.Name, "used in the recorded run")
		}
	}
	for _, tn := range []string{"base", template} {
		for n, why := range templateCalls[tn] {
			consider(n, "template "+tn, why)
		}
	}
	var names []string
	for _, a := range adds {
		if a.Source != "dropped" && a.Source != "argument rule" {
			names = append(names, a.Call)
		}
	}
	sort.Strings(names)
	sort.SliceStable(adds, func(i, j int) bool {
		return adds[i].Source < adds[j].Source || adds[i].Source == adds[j].Source && adds[i].Call < adds[j].Call
	})
	p.Rules[0] = Rule{Names: names, Action: Action{Kind: Allow}, Comment: fmt.Sprintf("generated from %d recording(s) and template %q", len(recs), template)}
	return numbered(p), adds, nil
}
