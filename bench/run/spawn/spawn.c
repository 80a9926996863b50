/*
 * spawn: times one run of a command for bench/run and reports its rusage.
 *
 * Build: gcc -O2 -static -o spawn spawn.c (run.sh does it).
 * usage: spawn PROG [ARGS...]; writes "wall_ns user_ns sys_ns maxrss_kib
 * wait_status\n" to fd 3.
 *
 * Why not time the runtime straight from the Go harness: Go starts children
 * with vfork semantics, and at execve the kernel folds the old mm's
 * high-water RSS (here: the harness's, about 3 MiB) into the child's
 * ru_maxrss, so every small runtime would read as the harness's size. This
 * process is small and static, so the child's ru_maxrss is its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static long long tv(struct timeval t) { return t.tv_sec * 1000000000LL + t.tv_usec * 1000LL; }

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
		fputs("usage: spawn PROG [ARGS...] (result on fd 3)\n", stderr);
		return 125;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("spawn: fork");
		return 125;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		perror("spawn: execv");
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("spawn: wait4");
			return 125;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dprintf(3, "%lld %lld %lld %ld %d\n", ns(t1) - ns(t0), tv(ru.ru_utime), tv(ru.ru_stime), ru.ru_maxrss, status);
	return 0;
}
