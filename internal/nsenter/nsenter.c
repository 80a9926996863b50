// The namespace-joining constructor of trustbox (see nsenter.go).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

// report sends one JSON message on the SOCK_SEQPACKET sync socket.
static void report_error(int sync, const char *what, int err)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"error\",\"error\":\"nsenter: %s: %s\"}", what, strerror(err));
	if (sync >= 0 && n > 0)
		(void)send(sync, buf, (size_t)n, MSG_NOSIGNAL);
	_exit(1);
}

static int ns_flag(const char *name)
{
	static const struct { const char *name; int flag; } table[] = {
		{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID},
		{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
		{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(name, table[i].name) == 0)
			return table[i].flag;
	return 0;
}

// enter_cgroup moves this process into one of the container's cgroup v1
// hierarchies: the runtime passed its "tasks" file, opened by host root (the
// kernel checks the opener's credentials). Writing "0" moves the
// calling thread, which is the whole process while it is single-threaded,
// here before the Go runtime starts; unlike a pid written to cgroup.procs it
// does not take the global threadgroup lock, whose first writer waits for an
// RCU grace period (~10-15 ms on this class of machine: bench/README.md).
static void enter_cgroup(int sync, int fd)
{
	if (write(fd, "0", 1) != 1)
		report_error(sync, "join cgroup", errno);
	close(fd);
}

// join_cgroups enters the hierarchies whose tasks fds _TRUSTBOX_CGROUP lists.
static void join_cgroups(int sync, const char *list)
{
	const char *p = list;
	while (*p != '\0') {
		char *end;
		long fd = strtol(p, &end, 10);
		if (end == p || fd < 3 || (*end != ',' && *end != '\0'))
			report_error(sync, "malformed cgroup fd list", EINVAL);
		enter_cgroup(sync, (int)fd);
		p = *end == ',' ? end + 1 : end;
	}
}

// recv_cgroups waits for the runtime's "cgroup" message on the sync socket
// and joins the hierarchies whose tasks files it carries (SCM_RIGHTS). The
// runtime starts init before it has made the container's v1 cgroups, so it
// can make them while the kernel execs init; nothing of init has run yet.
static void recv_cgroups(int sync)
{
	char buf[64];
	union {
		char space[CMSG_SPACE(sizeof(int) * 32)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.space, .msg_controllen = sizeof(cbuf.space)};
	ssize_t n;
	do
		n = recvmsg(sync, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		_exit(1); // the runtime went away before the container existed
	static const char want[] = "{\"type\":\"cgroup\"}";
	if ((size_t)n != sizeof(want) - 1 || memcmp(buf, want, sizeof(want) - 1) != 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		report_error(sync, "expected the cgroup message", EPROTO);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(c);
		for (size_t i = 0; i < nfds; i++)
			enter_cgroup(sync, fds[i]);
	}
}

// set_time_offsets writes linux.timeOffsets ("monotonic S N" and
// "boottime S N" lines) for the time namespace just unshared: allowed only
// before a process enters it, to its owner's root (time_namespaces(7)).
static void set_time_offsets(int sync)
{
	const char *offsets = getenv("_TRUSTBOX_TIMENS");
	if (offsets == NULL || *offsets == '\0')
		return;
	// setresuid cleared the dumpable flag, which gives /proc/self to global
	// root, whom this user namespace does not map: set it while writing
	// (nothing else of the container exists yet), then restore it.
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (dumpable < 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		report_error(sync, "prctl dumpable", errno);
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		report_error(sync, "open /proc/self/timens_offsets", errno);
	size_t n = strlen(offsets);
	if (write(fd, offsets, n) != (ssize_t)n)
		report_error(sync, "linux.timeOffsets", errno);
	close(fd);
	if (prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0) < 0)
		report_error(sync, "prctl dumpable", errno);
	unsetenv("_TRUSTBOX_TIMENS");
}

void trustbox_nsenter(void)
{
	const char *sync_env = getenv("_TRUSTBOX_NSENTER");
	const char *ns_env = getenv("_TRUSTBOX_NS");
	const char *cg_env = getenv("_TRUSTBOX_CGROUP");
	if (sync_env == NULL)
		return;
	int sync = atoi(sync_env);
	if (cg_env != NULL) {
		if (strcmp(cg_env, "recv") == 0)
			recv_cgroups(sync);
		else
			join_cgroups(sync, cg_env);
		unsetenv("_TRUSTBOX_CGROUP");
	}
	const char *unshare_env = getenv("_TRUSTBOX_UNSHARE");
	if (ns_env == NULL && unshare_env == NULL) {
		unsetenv("_TRUSTBOX_NSENTER");
		return;
	}
	char list[512] = "";
	if (ns_env != NULL && strlen(ns_env) >= sizeof(list))
		report_error(sync, "namespace list too long", EINVAL);
	if (ns_env != NULL)
		strcpy(list, ns_env);
	int joined_pid = 0;
	char *save = NULL;
	for (char *item = strtok_r(list, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (eq == NULL)
			report_error(sync, "malformed namespace list", EINVAL);
		*eq = '\0';
		int flag = ns_flag(item);
		int fd = atoi(eq + 1);
		if (flag == 0 || fd < 3)
			report_error(sync, item, EINVAL);
		if (setns(fd, flag) < 0)
			report_error(sync, item, errno);
		close(fd);
		if (flag == CLONE_NEWPID)
			joined_pid = 1;
	}
	// New namespaces that must be owned by a joined user namespace are
	// created here, after joining it, not by clone(2) in the runtime; so is
	// a time namespace with offsets, which must be set before any process
	// enters it.
	if (unshare_env != NULL && ns_env != NULL && strstr(ns_env, "user=") != NULL) {
		// A container joining a user namespace runs as its root, as one
		// that gets a new namespace does.
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			report_error(sync, "become root of the joined user namespace", errno);
	}
	if (unshare_env != NULL) {
		int flags = (int)strtol(unshare_env, NULL, 10);
		if (flags & CLONE_NEWUSER) {
			// A new user namespace after joining others (a CNI netns): only
			// the runtime, outside, may write its id maps. Ask, wait, and
			// become its root before creating the namespaces it will own.
			if (unshare(CLONE_NEWUSER) < 0)
				report_error(sync, "unshare user namespace", errno);
			static const char ask[] = "{\"type\":\"userns\"}";
			char ack;
			if (send(sync, ask, sizeof(ask) - 1, MSG_NOSIGNAL) < 0 || recv(sync, &ack, 1, 0) != 1)
				_exit(1);
			if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
				report_error(sync, "become root of the new user namespace", errno);
			flags &= ~CLONE_NEWUSER;
		}
		if (flags != 0 && unshare(flags) < 0)
			report_error(sync, "unshare", errno);
		if (flags & CLONE_NEWTIME)
			set_time_offsets(sync);
		// New pid and time namespaces are entered by children only.
		if (flags & (CLONE_NEWPID | CLONE_NEWTIME))
			joined_pid = 1;
		unsetenv("_TRUSTBOX_UNSHARE");
	}
	unsetenv("_TRUSTBOX_NS");
	unsetenv("_TRUSTBOX_NSENTER");
	if (!joined_pid)
		return;
	// A joined or new pid namespace applies to children only: fork, report the
	// child's pid (the runtime is a subreaper and adopts it), and leave.
	pid_t child = fork();
	if (child < 0)
		report_error(sync, "fork", errno);
	if (child > 0) {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "{\"type\":\"pid\",\"pid\":%d}", (int)child);
		if (send(sync, buf, (size_t)n, MSG_NOSIGNAL) < 0)
			_exit(1);
		_exit(0);
	}
}
