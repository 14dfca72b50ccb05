/* SPDX-License-Identifier: MIT */
/* startup: µs per fork + exec + exit of a trivial program.
 *
 *   startup ITER PROG PRELOAD NSOCK LISTEN
 *
 * Creates NSOCK listening TCP sockets on 127.0.0.1 at fds 3.. (outside the
 * timing), then ITER times: fork; in the child set LISTEN_PID to the
 * child's own pid and LISTEN_FDS=NSOCK (when LISTEN is 1) and LD_PRELOAD
 * (unless PRELOAD is "-"), execve(PROG); the parent waits for it.  Prints
 * "us=<mean wall-clock µs per iteration>" and "cpu_us=<mean CPU µs per
 * iteration>": the parent's own CPU time (fork, wait) plus the child's user
 * and system time from wait4().  On a shared machine the CPU time is the
 * steadier figure: it does not count time spent waiting for a core.
 * "minflt=<the child's minor page faults per run>". */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

static void die(const char *what)
{
	fprintf(stderr, "startup: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double clock_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

static double tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

int main(int argc, char **argv)
{
	static char pidbuf[32], fdsbuf[32], prebuf[4096];
	char *envp[4], *cargv[2];
	int ne = 0, nsock, listen_env;
	long iter;
	struct rlimit rl;
	double t = 0, tc = 0, child_cpu = 0, minflt = 0;

	if (argc != 6)
		return fprintf(stderr, "usage: startup ITER PROG PRELOAD NSOCK LISTEN\n"), 2;
	iter = atol(argv[1]);
	nsock = atoi(argv[4]);
	listen_env = atoi(argv[5]);
	if (iter < 1 || nsock < 0)
		return fprintf(stderr, "startup: bad arguments\n"), 2;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int fd = 3; fd < 3 + nsock + 16; fd++)
		(void)close(fd);
	if (bench_listen_sockets(nsock) < 0)
		die("socket");
	if (strcmp(argv[3], "-") != 0) {
		snprintf(prebuf, sizeof(prebuf), "LD_PRELOAD=%s", argv[3]);
		envp[ne++] = prebuf;
	}
	if (listen_env && nsock > 0) {
		snprintf(fdsbuf, sizeof(fdsbuf), "LISTEN_FDS=%d", nsock);
		envp[ne++] = pidbuf;
		envp[ne++] = fdsbuf;
	}
	envp[ne] = NULL;
	cargv[0] = argv[2];
	cargv[1] = NULL;

	/* one untimed run: page cache, and the program must exit 0 */
	for (long i = -1; i < iter; i++) {
		int st;
		pid_t p;

		struct rusage ru;

		if (i == 0) {
			t = now_us();
			tc = clock_us(CLOCK_PROCESS_CPUTIME_ID);
		}
		p = fork();
		if (p < 0)
			die("fork");
		if (p == 0) {
			snprintf(pidbuf, sizeof(pidbuf), "LISTEN_PID=%d", (int)getpid());
			execve(argv[2], cargv, envp);
			_exit(127);
		}
		if (wait4(p, &st, 0, &ru) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "startup: child failed (status %#x)\n", st);
			return 2;
		}
		if (i >= 0) {
			child_cpu += tv_us(&ru.ru_utime) + tv_us(&ru.ru_stime);
			minflt += (double)ru.ru_minflt;
		}
	}
	printf("us=%.3f\n", (now_us() - t) / (double)iter);
	printf("cpu_us=%.3f\n",
	       (clock_us(CLOCK_PROCESS_CPUTIME_ID) - tc + child_cpu) / (double)iter);
	printf("minflt=%.1f\n", minflt / (double)iter);
	return 0;
}
