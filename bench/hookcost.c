/* SPDX-License-Identifier: MIT */
/* hookcost: ns per call of the hooked functions, run under bench-activate
 * with N inherited sockets at fds 3.. (with or without the shim preloaded).
 *
 *   hookcost ITER REPS
 *
 * Prints key=value lines in ns per call:
 *
 *   first_bind       the very first bind() (with the shim: probes the N fds),
 *                    in ns for that one call
 *   close_bad        close() of an fd number that is not open (EBADF)
 *   close_bad_libc   the same through libc's close() called directly
 *   close_bad_added  median over 64 alternated batches of the difference
 *   bind_miss        bind() of an already bound socket to an address no
 *                    inherited socket serves (EINVAL from the kernel)
 *   bind_miss_libc, bind_miss_added   as for close
 *   socket_close     socket() + close()
 *
 * ITER calls per operation in all; the close and bind pairs run as 64
 * batches alternating the hooked and the direct call (order flipped each
 * time), the other operations as REPS batches; each value is the median.
 * The *_libc variants call the libc definitions found with dlsym() on
 * libc.so.6 itself, so within one process they are the shim-free reference
 * for the same call.  HOOKCOST_NFDS=N tells it how many fds were inherited.
 *
 * HOOKCOST_ONLY=cycles measures instead, in ns per cycle:
 *
 *   adopt_cycle      socket() + bind(fd 3's address) + listen() + close():
 *                    with the shim an adoption (fd 3 dup3'd onto the new fd);
 *                    only when N > 0 and the shim adopts
 *   native_libc      socket() + bind(127.0.0.1:free port) + listen() + close()
 *                    through libc's own definitions: the native cycle,
 *                    shim-free, in the same process
 *   adopt_ratio      median over 64 alternated batches of adopt_cycle /
 *                    native_libc (the drift of the machine cancels)
 *   native_cycle     the native cycle through the hooked calls (with the
 *                    shim: a bind() miss, then the kernel binds)
 *   native_ratio     median of native_cycle / native_libc per batch (A/A
 *                    without the shim)
 *
 * ITER/20 cycles per operation in all.  HOOKCOST_ONLY=bind_miss runs nothing
 * but REPS x ITER hooked bind() misses, HOOKCOST_ONLY=adopt_cycle REPS x
 * ITER/20 adoption cycles and HOOKCOST_ONLY=native_cycle REPS x ITER/20
 * hooked native cycles (for perf record and for counting system calls). */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

static int (*libc_close)(int);
static int (*libc_bind)(int, const struct sockaddr *, socklen_t);
static int (*libc_socket)(int, int, int);
static int (*libc_listen)(int, int);

static long iter;
static int badfd, boundfd;
static struct sockaddr_in miss, freeaddr, served;
static volatile int sink;

#define PAIRS 64

static void die(const char *what)
{
	fprintf(stderr, "hookcost: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double op_close_bad(long n)
{
	return BENCH_NS_PER_CALL(n, sink += close(badfd));
}

static double op_close_bad_libc(long n)
{
	return BENCH_NS_PER_CALL(n, sink += libc_close(badfd));
}

static double op_socket_close(long n)
{
	return BENCH_NS_PER_CALL(n, int fd = socket(AF_INET, SOCK_STREAM, 0); sink += close(fd));
}

static double op_bind_miss(long n)
{
	return BENCH_NS_PER_CALL(n, sink += bind(boundfd, (struct sockaddr *)&miss, sizeof(miss)));
}

static double op_bind_miss_libc(long n)
{
	return BENCH_NS_PER_CALL(n, sink += libc_bind(boundfd, (struct sockaddr *)&miss, sizeof(miss)));
}

static struct sockaddr_in free_port(void);

/* One server start's worth of calls: socket(), bind(), listen(), close(),
 * through the hooked names or (direct) through libc's own definitions. */
static double cycle(long n, struct sockaddr_in *a, int retry, int direct)
{
	int (*so)(int, int, int) = direct ? libc_socket : socket;
	int (*bi)(int, const struct sockaddr *, socklen_t) = direct ? libc_bind : bind;
	int (*li)(int, int) = direct ? libc_listen : listen;
	int (*cl)(int) = direct ? libc_close : close;
	int tries = 0;
	double t = bench_now_ns();

	for (long i = 0; i < n; i++) {
		int fd = so(AF_INET, SOCK_STREAM, 0);

		if (bi(fd, (const struct sockaddr *)a, sizeof(*a)) < 0) {
			/* another process took the free port meanwhile (an
			 * ephemeral port of its connection): take another one */
			if (!retry || errno != EADDRINUSE || ++tries > 100)
				die("bind in cycle");
			cl(fd);
			*a = free_port();
			i--;
			continue;
		}
		if (li(fd, 128) < 0)
			die("listen in cycle");
		sink += cl(fd);
	}
	return (bench_now_ns() - t) / (double)n;
}

static double op_native_cycle(long n)
{
	return cycle(n, &freeaddr, 1, 0);
}

static double op_native_libc(long n)
{
	return cycle(n, &freeaddr, 1, 1);
}

static double op_adopt_cycle(long n)
{
	return cycle(n, &served, 0, 0);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
	double s[PAIRS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmpd);
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static struct sockaddr_in free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		die("free port");
	close(fd);
	return a;
}

/* HOOKCOST_ONLY=cycles: PAIRS short batches, the order of the sides
 * rotated every batch so that a drift in the machine's speed hits them
 * alike. */
static int cycles(int can_adopt, int nfds)
{
	double ad[PAIRS], nl[PAIRS], nh[PAIRS], ar[PAIRS], hr[PAIRS];
	long b = iter / 20 / PAIRS;

	if (b < 1)
		b = 1;
	/* warm up */
	(void)op_native_libc(b);
	(void)op_native_cycle(b);
	if (can_adopt)
		(void)op_adopt_cycle(b);
	for (int r = 0; r < PAIRS; r++) {
		for (int k = 0; k < 3; k++)
			switch ((k + r) % 3) {
			case 0: nl[r] = op_native_libc(b); break;
			case 1: nh[r] = op_native_cycle(b); break;
			case 2: ad[r] = can_adopt ? op_adopt_cycle(b) : 0; break;
			}
		ar[r] = ad[r] / nl[r];
		hr[r] = nh[r] / nl[r];
	}
	printf("native_libc=%.2f\nnative_cycle=%.2f\nnative_ratio=%.4f\n", median(nl, PAIRS),
	       median(nh, PAIRS), median(hr, PAIRS));
	if (can_adopt)
		printf("adopt_cycle=%.2f\nadopt_ratio=%.4f\n", median(ad, PAIRS), median(ar, PAIRS));
	printf("batch=%ld\nnfds=%d\nadopted=%d\n", b, nfds, can_adopt);
	return 0;
}

int main(int argc, char **argv)
{
	struct op {
		const char *name;
		double (*fn)(long);
		long div;
		double v[PAIRS];
	} ops[] = {
		{ "socket_close", op_socket_close, 10, { 0 } },
	};
	/* hooked call vs libc's own definition, alternated in short batches */
	struct pair {
		const char *name;
		double (*hooked)(long), (*direct)(long);
		double h[PAIRS], d[PAIRS], diff[PAIRS];
	} pairs[] = {
		{ "close_bad", op_close_bad, op_close_bad_libc, { 0 }, { 0 }, { 0 } },
		{ "bind_miss", op_bind_miss, op_bind_miss_libc, { 0 }, { 0 }, { 0 } },
	};
	size_t nops = sizeof(ops) / sizeof(ops[0]), npairs = sizeof(pairs) / sizeof(pairs[0]);
	int reps, nfds = 0, can_adopt = 0;
	const char *lf = getenv("HOOKCOST_NFDS");
	void *libc;
	struct stat st;
	double t;

	if (argc != 3)
		return fprintf(stderr, "usage: hookcost ITER REPS\n"), 2;
	iter = atol(argv[1]);
	reps = atoi(argv[2]);
	if (iter < 1000 || reps < 1 || reps > PAIRS)
		return fprintf(stderr, "hookcost: bad ITER or REPS\n"), 2;
	nfds = lf ? atoi(lf) : 0;

	/* The first bind: with the shim it probes the inherited sockets. */
	boundfd = socket(AF_INET, SOCK_STREAM, 0);
	if (boundfd < 0)
		die("socket");
	{
		struct sockaddr_in a = { .sin_family = AF_INET };

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		t = bench_now_ns();
		if (bind(boundfd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("first bind");
		printf("first_bind=%.1f\n", bench_now_ns() - t);
	}

	libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	if (!libc)
		return fprintf(stderr, "hookcost: dlopen libc: %s\n", dlerror()), 2;
	*(void **)&libc_close = dlsym(libc, "close");
	*(void **)&libc_bind = dlsym(libc, "bind");
	*(void **)&libc_socket = dlsym(libc, "socket");
	*(void **)&libc_listen = dlsym(libc, "listen");
	if (!libc_close || !libc_bind || !libc_socket || !libc_listen)
		return fprintf(stderr, "hookcost: dlsym libc\n"), 2;

	badfd = 3 + nfds + 100;
	if (fstat(badfd, &st) == 0)
		return fprintf(stderr, "hookcost: fd %d is open\n", badfd), 2;
	miss = free_port();
	freeaddr = free_port();
	if (nfds > 0) {
		socklen_t l = sizeof(served);

		if (getsockname(3, (struct sockaddr *)&served, &l) == 0 &&
		    served.sin_family == AF_INET) {
			/* adopts with the shim, EADDRINUSE without it */
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			can_adopt = bind(fd, (struct sockaddr *)&served, sizeof(served)) == 0;
			close(fd);
		}
	}

	/* HOOKCOST_ONLY=bind_miss or adopt_cycle: only that, for a profiler */
	if (getenv("HOOKCOST_ONLY") && strcmp(getenv("HOOKCOST_ONLY"), "bind_miss") == 0) {
		for (int r = 0; r < reps; r++)
			printf("bind_miss=%.2f\n", op_bind_miss(iter));
		return 0;
	}
	if (getenv("HOOKCOST_ONLY") && strcmp(getenv("HOOKCOST_ONLY"), "adopt_cycle") == 0) {
		for (int r = 0; r < reps && can_adopt; r++)
			printf("adopt_cycle=%.2f\n", op_adopt_cycle(iter / 20));
		return 0;
	}
	if (getenv("HOOKCOST_ONLY") && strcmp(getenv("HOOKCOST_ONLY"), "native_cycle") == 0) {
		for (int r = 0; r < reps; r++)
			printf("native_cycle=%.2f\n", op_native_cycle(iter / 20));
		return 0;
	}
	if (getenv("HOOKCOST_ONLY") && strcmp(getenv("HOOKCOST_ONLY"), "cycles") == 0)
		return cycles(can_adopt, nfds);

	/* warm up */
	for (size_t k = 0; k < npairs; k++) {
		(void)pairs[k].hooked(iter / 20 + 1);
		(void)pairs[k].direct(iter / 20 + 1);
	}
	for (size_t k = 0; k < nops; k++)
		(void)ops[k].fn(iter / ops[k].div / 20 + 1);

	/* PAIRS short batches per pair, the order flipped every time, so that
	 * a drift in the machine's speed hits both sides alike */
	for (int r = 0; r < PAIRS; r++)
		for (size_t k = 0; k < npairs; k++) {
			struct pair *p = &pairs[k];
			long b = iter / PAIRS;

			if (r & 1) {
				p->d[r] = p->direct(b);
				p->h[r] = p->hooked(b);
			} else {
				p->h[r] = p->hooked(b);
				p->d[r] = p->direct(b);
			}
			p->diff[r] = p->h[r] - p->d[r];
		}
	for (int r = 0; r < reps; r++)
		for (size_t k = 0; k < nops; k++)
			ops[k].v[r] = ops[k].fn(iter / ops[k].div / reps);
	for (size_t k = 0; k < npairs; k++) {
		printf("%s=%.2f\n", pairs[k].name, median(pairs[k].h, PAIRS));
		printf("%s_libc=%.2f\n", pairs[k].name, median(pairs[k].d, PAIRS));
		printf("%s_added=%.2f\n", pairs[k].name, median(pairs[k].diff, PAIRS));
	}
	for (size_t k = 0; k < nops; k++)
		printf("%s=%.2f\n", ops[k].name, median(ops[k].v, (size_t)reps));
	printf("nfds=%d\nadopted=%d\n", nfds, can_adopt);
	return 0;
}
