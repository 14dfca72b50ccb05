/* SPDX-License-Identifier: MIT */
/* startwall: wall-clock µs of fork + exec + exit + wait, one CPU, the
 * configurations interleaved round by round.
 *
 *   startwall [-c CPU|-u] [-n NICE] [-r ROUNDS] [-k ITER] [-i] -- NAME PRELOAD NSOCK LISTEN PROG ...
 *
 * Each configuration is five words: a NAME, the PRELOAD (or "-"), NSOCK
 * listening TCP sockets on 127.0.0.1 the child inherits at fds 3.., LISTEN
 * (1: the child gets LISTEN_PID=its own pid and LISTEN_FDS=NSOCK, 0: no
 * LISTEN_*) and the PROG to exec (no arguments).
 *
 * The process pins itself to CPU (default: the last one; -u: no pinning, for
 * comparison), sets its nice value to NICE (default -20, if it may: other
 * jobs on that CPU then wait for the loop rather than the loop for them) and
 * forks one runner per configuration, which inherits both.  A runner holds exactly the child's fds: 0-2 on /dev/null, its
 * sockets at 3.., and its two pipes to us close-on-exec (the same two
 * closes at exec in every configuration).  Then ROUNDS rounds: in each, every
 * runner in turn (the order rotated by one each round) runs one untimed
 * warm-up and ITER timed iterations:
 *
 *   t0 = CLOCK_MONOTONIC; fork(); child: write LISTEN_PID=its pid (in
 *   every configuration, by hand: a printf() in the child writes fresh
 *   stack pages, copy-on-write faults that would count against the
 *   configurations with LISTEN_*), execve(PROG);
 *   wait4(); t1 = CLOCK_MONOTONIC
 *
 * and prints one line per iteration:
 *
 *   r=ROUND c=NAME i=I wall_ns=t1-t0 pcpu_ns=the runner's own CPU time in
 *   that window ccpu_us=the child's user+system time from wait4() minflt=
 *   nvcsw= nivcsw= (the child's page faults and context switches)
 *
 * -i (instrumented): wait with waitid(WNOWAIT) first and, while the child is
 * a zombie, read its /proc/PID/schedstat (run_ns: the scheduler's exact CPU
 * time; delay_ns: time it spent runnable but waiting for the CPU) and the
 * CPU it last ran on (cpu=, and pcpu0= the CPU the runner forked on), then
 * reap it; the reads are left out of wall_ns and pcpu_ns. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#define MAXCFG 32

struct rec {
	int64_t wall_ns, pcpu_ns, ccpu_us, run_ns, delay_ns;
	int32_t minflt, nvcsw, nivcsw, cpu, cpu0, status;
};

struct cfg {
	const char *name, *preload, *prog;
	int nsock, listen_env;
	pid_t runner;
	int cmd, res;
};

static int iter = 20, instrumented;

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "startwall: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int full_write(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int full_read(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The zombie's scheduler statistics and last CPU (only with -i). */
static void zombie_stats(pid_t p, struct rec *r)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)p);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			long long a, b;

			buf[n] = '\0';
			if (sscanf(buf, "%lld %lld", &a, &b) == 2) {
				r->run_ns = a;
				r->delay_ns = b;
			}
		}
		close(fd);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			char *s = strrchr((buf[n] = '\0', buf), ')');
			int field = 2;

			/* field 39 is "processor" */
			for (; s && *s; s++)
				if (*s == ' ' && ++field == 39) {
					r->cpu = atoi(s + 1);
					break;
				}
		}
		close(fd);
	}
}

/* "LISTEN_PID=" and the decimal pid into buf (32 bytes). */
static void put_pid(char *buf, pid_t pid)
{
	static const char k[] = "LISTEN_PID=";
	char d[12];
	int n = 0, i = 0;
	unsigned v = (unsigned)pid;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 11);
	for (; k[i]; i++)
		buf[i] = k[i];
	while (n)
		buf[i++] = d[--n];
	buf[i] = 0;
}

static void one(struct cfg *c, char **envp, char *pidbuf, struct rec *r)
{
	char *argv[2] = { (char *)c->prog, NULL };
	int64_t t0, t1, t2, t3, c0, c1, c2, c3;
	struct rusage ru;
	siginfo_t si;
	int st = 0;
	pid_t p;

	memset(r, 0, sizeof(*r));
	r->run_ns = r->delay_ns = -1;
	r->cpu = -1;
	r->cpu0 = instrumented ? sched_getcpu() : -1;
	t0 = clock_ns(CLOCK_MONOTONIC);
	c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	p = fork();
	if (p < 0) {
		r->status = -1;
		return;
	}
	if (p == 0) {
		/* the same few stores in every configuration: snprintf()
		 * here wrote fresh stack pages (copy-on-write faults, 9 of
		 * them) that were charged to the activated ones only */
		put_pid(pidbuf, getpid());
		execve(c->prog, argv, envp);
		_exit(127);
	}
	t1 = t2 = c1 = c2 = 0;
	if (instrumented) {
		if (waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT) < 0) {
			r->status = -1;
			return;
		}
		t1 = clock_ns(CLOCK_MONOTONIC);
		c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		zombie_stats(p, r);
		c2 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
		t2 = clock_ns(CLOCK_MONOTONIC);
	}
	if (wait4(p, &st, 0, &ru) != p) {
		r->status = -1;
		return;
	}
	c3 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	t3 = clock_ns(CLOCK_MONOTONIC);
	r->wall_ns = (t3 - t0) - (t2 - t1);
	r->pcpu_ns = (c3 - c0) - (c2 - c1);
	r->ccpu_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
		     (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
	r->minflt = (int32_t)ru.ru_minflt;
	r->nvcsw = (int32_t)ru.ru_nvcsw;
	r->nivcsw = (int32_t)ru.ru_nivcsw;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The runner: fd 0 reads commands, fd 1 writes records. */
static void runner(struct cfg *c)
{
	static char pidbuf[32], fdsbuf[32], prebuf[4096];
	char *envp[4];
	int ne = 0, cmd, res, nul;
	char op;

	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		for (int fd = 3; fd < 65536; fd++)
			(void)close(fd);
	if (bench_listen_sockets(c->nsock) < 0)
		die("socket");
	cmd = fcntl(0, F_DUPFD_CLOEXEC, 3 + c->nsock);
	res = fcntl(1, F_DUPFD_CLOEXEC, 3 + c->nsock);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (cmd < 0 || res < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(nul, 2) < 0)
		die("runner fds");
	close(nul);
	if (strcmp(c->preload, "-") != 0) {
		snprintf(prebuf, sizeof(prebuf), "LD_PRELOAD=%s", c->preload);
		envp[ne++] = prebuf;
	}
	if (c->listen_env && c->nsock > 0) {
		snprintf(fdsbuf, sizeof(fdsbuf), "LISTEN_FDS=%d", c->nsock);
		envp[ne++] = pidbuf;
		envp[ne++] = fdsbuf;
	} else {
		c->listen_env = 0;
	}
	envp[ne] = NULL;
	while (full_read(cmd, &op, 1) == 0 && op == 'g') {
		struct rec w, *rs = calloc((size_t)iter, sizeof(*rs));

		if (!rs)
			_exit(2);
		one(c, envp, pidbuf, &w);       /* warm-up, untimed */
		for (int i = 0; i < iter; i++)
			one(c, envp, pidbuf, &rs[i]);
		if (w.status != 0)
			rs[0].status = w.status;
		if (full_write(res, rs, (size_t)iter * sizeof(*rs)) < 0)
			_exit(2);
		free(rs);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct cfg cfgs[MAXCFG];
	int ncfg = 0, rounds = 10, cpu = -1, pin = 1, nice_to = -20, opt;
	struct rlimit rl;
	cpu_set_t set;

	while ((opt = getopt(argc, argv, "c:un:r:k:i")) != -1) {
		switch (opt) {
		case 'c': cpu = atoi(optarg); break;
		case 'n': nice_to = atoi(optarg); break;
		case 'u': pin = 0; break;
		case 'r': rounds = atoi(optarg); break;
		case 'k': iter = atoi(optarg); break;
		case 'i': instrumented = 1; break;
		default:
			fprintf(stderr, "usage: startwall [-c CPU|-u] [-n NICE] [-r ROUNDS] [-k ITER] [-i] -- "
					"NAME PRELOAD NSOCK LISTEN PROG ...\n");
			return 2;
		}
	}
	if (rounds < 1 || iter < 1 || (argc - optind) % 5 != 0 || argc == optind ||
	    (argc - optind) / 5 > MAXCFG)
		return fprintf(stderr, "startwall: bad arguments\n"), 2;
	for (int i = optind; i < argc; i += 5) {
		struct cfg *c = &cfgs[ncfg++];

		c->name = argv[i];
		c->preload = argv[i + 1];
		c->nsock = atoi(argv[i + 2]);
		c->listen_env = atoi(argv[i + 3]);
		c->prog = argv[i + 4];
		if (c->nsock < 0 || access(c->prog, X_OK) != 0)
			return fprintf(stderr, "startwall: bad configuration %s\n", c->name), 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (pin) {
		if (cpu < 0) {
			if (sched_getaffinity(0, sizeof(set), &set) < 0)
				die("sched_getaffinity");
			for (int i = 0; i < CPU_SETSIZE; i++)
				if (CPU_ISSET(i, &set))
					cpu = i;
		}
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			die("sched_setaffinity");
	}
	(void)setpriority(PRIO_PROCESS, 0, nice_to);     /* best effort */
	errno = 0;
	{
		int nv = getpriority(PRIO_PROCESS, 0);

		printf("cpu=%d pinned=%d nice=%d rounds=%d iter=%d instrumented=%d\n", pin ? cpu : -1,
		       pin, errno ? 0 : nv, rounds, iter, instrumented);
	}
	fflush(stdout);
	for (int k = 0; k < ncfg; k++) {
		int cp[2], rp[2];

		if (pipe2(cp, O_CLOEXEC) < 0 || pipe2(rp, O_CLOEXEC) < 0)
			die("pipe");
		cfgs[k].runner = fork();
		if (cfgs[k].runner < 0)
			die("fork");
		if (cfgs[k].runner == 0) {
			if (dup2(cp[0], 0) < 0 || dup2(rp[1], 1) < 0)
				die("dup2");
			runner(&cfgs[k]);
		}
		close(cp[0]);
		close(rp[1]);
		cfgs[k].cmd = cp[1];
		cfgs[k].res = rp[0];
	}
	signal(SIGPIPE, SIG_IGN);
	for (int r = 0; r < rounds; r++)
		for (int j = 0; j < ncfg; j++) {
			struct cfg *c = &cfgs[(j + r) % ncfg];
			struct rec *rs = calloc((size_t)iter, sizeof(*rs));

			if (!rs || full_write(c->cmd, "g", 1) < 0 ||
			    full_read(c->res, rs, (size_t)iter * sizeof(*rs)) < 0) {
				fprintf(stderr, "startwall: runner %s failed\n", c->name);
				return 2;
			}
			for (int i = 0; i < iter; i++) {
				if (rs[i].status != 0) {
					fprintf(stderr, "startwall: %s: %s exited with status %d\n",
						c->name, c->prog, rs[i].status);
					return 2;
				}
				printf("r=%d c=%s i=%d wall_ns=%lld pcpu_ns=%lld ccpu_us=%lld minflt=%d"
				       " nvcsw=%d nivcsw=%d", r, c->name, i, (long long)rs[i].wall_ns,
				       (long long)rs[i].pcpu_ns, (long long)rs[i].ccpu_us, rs[i].minflt,
				       rs[i].nvcsw, rs[i].nivcsw);
				if (instrumented)
					printf(" run_ns=%lld delay_ns=%lld cpu=%d cpu0=%d",
					       (long long)rs[i].run_ns, (long long)rs[i].delay_ns,
					       rs[i].cpu, rs[i].cpu0);
				putchar('\n');
			}
			free(rs);
		}
	for (int k = 0; k < ncfg; k++) {
		int st;

		close(cfgs[k].cmd);
		close(cfgs[k].res);
		waitpid(cfgs[k].runner, &st, 0);
	}
	return 0;
}
