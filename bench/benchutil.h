/* SPDX-License-Identifier: MIT */
/* benchutil.h: what the bench/ programs share (all static inline or
 * macros: each program still builds from its one .c file). */
#ifndef SDA_BENCHUTIL_H
#define SDA_BENCHUTIL_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns. */
static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs the statements (the rest of the arguments) N times in a loop and is
 * the mean ns per time round it, from bench_now_ns() before and after the
 * loop. */
#define BENCH_NS_PER_CALL(n, ...)                                       \
	__extension__({                                                 \
		double bench_t0_ = bench_now_ns();                      \
		for (long bench_i_ = 0; bench_i_ < (n); bench_i_++) {   \
			__VA_ARGS__;                                    \
		}                                                       \
		(bench_now_ns() - bench_t0_) / (double)(n);             \
	})

/* NSOCK listening TCP sockets on 127.0.0.1 (kernel-chosen ports, backlog
 * 128) at fds 3..3+NSOCK-1, in order: the lowest fds free must be those.
 * 0, or -1 (errno set) as soon as one could not be made or did not land at
 * its fd. */
static inline int bench_listen_sockets(int nsock)
{
	for (int i = 0; i < nsock; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd != 3 + i || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(fd, 128) < 0)
			return -1;
	}
	return 0;
}

#endif
