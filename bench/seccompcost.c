/* SPDX-License-Identifier: MIT */
/* seccompcost: what seccomp mode costs a program, per system call.
 *
 *   seccompcost getppid ITER     ns per getppid() (a system call the filter
 *                                lets through without trapping it)
 *   seccompcost bind ITER        µs per socket() + bind(127.0.0.1:0) +
 *                                close(): under sdadopt's filter the bind()
 *                                is trapped, goes to the supervisor, which
 *                                reads the address and continues it (port 0)
 *
 * Run it under `sdadopt --seccomp --listen ... --` for the filter, and as
 * it is for the baseline.  SECCOMPCOST_ALLOWALL=1: it installs a filter of
 * its own first that allows every call (the floor any seccomp filter pays).
 * ITER calls in 32 batches; prints "ns=MEDIAN" (getppid) or "us=MEDIAN"
 * (bind), the median over the batches, and "min=" the fastest batch. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#define BATCHES 32

static volatile long sink;

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double op_getppid(long n)
{
	return BENCH_NS_PER_CALL(n, sink += syscall(SYS_getppid));
}

static double op_bind(long n)
{
	struct sockaddr_in a = {.sin_family = AF_INET};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return BENCH_NS_PER_CALL(n, {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			fprintf(stderr, "seccompcost: socket/bind: %s\n", strerror(errno));
			exit(2);
		}
		close(fd);
	}) / 1e3;
}

static void allow_all(void)
{
	struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	struct sock_fprog p = {.len = 1, .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p) != 0) {
		fprintf(stderr, "seccompcost: allow-all filter: %s\n", strerror(errno));
		exit(2);
	}
}

int main(int argc, char **argv)
{
	double v[BATCHES];
	double (*op)(long);
	long iter, b;
	const char *aa = getenv("SECCOMPCOST_ALLOWALL");

	if (argc != 3 || (strcmp(argv[1], "getppid") && strcmp(argv[1], "bind")))
		return fprintf(stderr, "usage: seccompcost getppid|bind ITER\n"), 2;
	op = strcmp(argv[1], "bind") ? op_getppid : op_bind;
	iter = atol(argv[2]);
	b = iter / BATCHES;
	if (b < 1)
		return fprintf(stderr, "seccompcost: ITER too small\n"), 2;
	if (aa && !strcmp(aa, "1"))
		allow_all();
	(void)op(b / 4 + 1); /* warm up */
	for (int r = 0; r < BATCHES; r++)
		v[r] = op(b);
	qsort(v, BATCHES, sizeof(v[0]), cmpd);
	printf("%s=%.3f\nmin=%.3f\n", op == op_bind ? "us" : "ns", (v[BATCHES / 2 - 1] + v[BATCHES / 2]) / 2,
	       v[0]);
	return 0;
}
