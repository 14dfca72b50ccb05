/* SPDX-License-Identifier: MIT */
/* bench-activate: the benchmarks' own minimal socket activator.
 *
 *   bench-activate [-n N] [-k tcp|unix] [-b BACKLOG] [-p PRELOAD] [-E] -- PROG [ARG]...
 *
 * Creates N listening sockets (tcp: 127.0.0.1, kernel-chosen ports; unix:
 * abstract names "@sda-bench-PID-I"), puts them at fds 3..3+N-1 (not
 * CLOEXEC), sets LISTEN_PID (its own pid: it execs PROG in place, so that is
 * PROG's pid), LISTEN_FDS=N and, with -p, LD_PRELOAD=PRELOAD, then execs
 * PROG.  -E: pass the sockets but set no LISTEN_* (the no-shim baselines
 * keep the same fds).  With N = 0 no LISTEN_* is set at all.  The soft
 * RLIMIT_NOFILE is raised to the hard one first. */
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "bench-activate: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int make_sock(int unixk, int i, int backlog)
{
	int fd;

	if (unixk) {
		struct sockaddr_un su = { .sun_family = AF_UNIX };
		int n = snprintf(su.sun_path + 1, sizeof(su.sun_path) - 1, "sda-bench-%d-%d",
				 (int)getpid(), i);

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (bind(fd, (struct sockaddr *)&su,
			 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0)
			die("bind unix");
	} else {
		struct sockaddr_in si = { .sin_family = AF_INET };

		si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (bind(fd, (struct sockaddr *)&si, sizeof(si)) < 0)
			die("bind 127.0.0.1:0");
	}
	if (listen(fd, backlog) < 0)
		die("listen");
	return fd;
}

int main(int argc, char **argv)
{
	int n = 0, unixk = 0, backlog = 128, noenv = 0, opt;
	const char *preload = NULL;
	struct rlimit rl;
	char buf[64];

	while ((opt = getopt(argc, argv, "+n:k:b:p:E")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'k': unixk = strcmp(optarg, "unix") == 0; break;
		case 'b': backlog = atoi(optarg); break;
		case 'p': preload = optarg; break;
		case 'E': noenv = 1; break;
		default:
			fprintf(stderr, "usage: bench-activate [-n N] [-k tcp|unix] [-b BACKLOG] "
					"[-p PRELOAD] [-E] -- PROG [ARG]...\n");
			return 2;
		}
	}
	if (optind >= argc || n < 0) {
		fprintf(stderr, "bench-activate: no program\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* fds 3.. must be ours, in order */
	for (int fd = 3; fd < 3 + n + 16; fd++)
		(void)close(fd);
	for (int i = 0; i < n; i++) {
		int fd = make_sock(unixk, i, backlog);

		if (fd != 3 + i) {
			errno = EBADFD;
			die("socket did not land at the expected fd");
		}
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("LISTEN_PIDFDID");
	if (n > 0 && !noenv) {
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		setenv("LISTEN_PID", buf, 1);
		snprintf(buf, sizeof(buf), "%d", n);
		setenv("LISTEN_FDS", buf, 1);
	}
	if (preload)
		setenv("LD_PRELOAD", preload, 1);
	else
		unsetenv("LD_PRELOAD");
	execv(argv[optind], &argv[optind]);
	die(argv[optind]);
	return 2;
}
