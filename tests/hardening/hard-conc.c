/* SPDX-License-Identifier: MIT */
/* hard-conc: concurrency, fork and signal stress, run as an activated server
 * with the shim preloaded (hard-activate --tcp 127.0.0.1 -- hard-conc MODE
 * {port0}).  fd 3 is the inherited listener on 127.0.0.1:PORT.
 *
 *   threads        8 threads bind the activated address and close in a loop
 *                  (each bind must adopt: same inode as fd 3), 2 threads bind
 *                  port 0 natively, 2 threads dup2()/dup3() onto fds and close
 *                  them; until every thread has done its share (ADOPT_EACH
 *                  adoptions, NATIVE_EACH native binds, DUP_EACH rounds)
 *   fork           the same threads while the main thread forks FORKS times;
 *                  each child binds (adopts) and closes, then exits
 *   spawn          the same threads while the main thread starts SPAWNS
 *                  children with posix_spawn() and as many with
 *                  vfork()+execve(); each child checks that it inherited no
 *                  socket and no LISTEN_*
 *   signals-close  a SIGALRM storm whose handler dup()s and close()s (and
 *                  close()s fd 3) while the main thread binds and closes, for
 *                  MAIN_STEPS main-thread steps and at least HANDLER_WORK
 *                  handler runs
 *   signals-bind   the same, the handler itself socket()/bind()/close()s the
 *                  activated address (all async-signal-safe in POSIX)
 *
 * The amount of work is fixed, never the time: a slow machine takes longer,
 * a fast one is done sooner.  The signal storm cannot starve the main
 * thread on any machine: its period is SIGNAL_FACTOR times the handler's
 * median cost, measured in this run before the storm starts (at least
 * MIN_PERIOD_US), and the handler does its work at most HANDLER_BUDGET times
 * per main-thread step (beyond that it only counts the signal).
 *
 * Every mode checks: no lost adoption, errno kept across successful hooked
 * calls, fd 3 still the inherited socket at the end, the same number of open
 * fds before and after (no leak), and no deadlock: a watchdog thread follows
 * a progress counter per worker (each thread, the main thread, the signal
 * handler) and fails the run (exit 3) when one of them has not moved for
 * STALL seconds (default 30, HARD_CONC_STALL=SECONDS to change), killing the
 * child the main thread waits for, if any.  A run that progresses is never
 * cut short, however slowly it goes.
 * Prints "PASS MODE ..." and exits 0, or "FAIL ..." exit 1. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* the work each mode must complete (counts, not seconds) */
#define ADOPT_EACH 5000        /* per adopting thread */
#define NATIVE_EACH 5000       /* per port-0 thread */
#define DUP_EACH 2000          /* rounds per dup thread (5 fds each) */
#define FORKS 150
#define SPAWNS 60              /* posix_spawn()s, and as many vfork()+execve()s */
#define MAIN_STEPS 50000       /* signals: bind+close, native bind+close each */
#define HANDLER_WORK 5000      /* signals: the handler's dup/close or bind/close */
/* the signal storm */
#define SIGNAL_FACTOR 5        /* period = this times the handler's median cost */
#define MIN_PERIOD_US 50       /* never faster than this */
#define HANDLER_BUDGET 2       /* handler work per main-thread step, at most */
#define STALL_DEFAULT 30       /* seconds without progress that mean a deadlock */

static struct sockaddr_in addr;
static ino_t inherited;
static const char *self, *mode;
static atomic_long adopted, native, failures, handler_adopted, handler_lost, handler_runs,
	handler_skipped;
static atomic_int stop;
static atomic_int waited_child;          /* the child the main thread waits for */
static int spawning;
static long stall_s = STALL_DEFAULT;

#define FAILF(...)                                                             \
	do {                                                                   \
		char m_[256];                                                  \
		snprintf(m_, sizeof(m_), __VA_ARGS__);                         \
		if (atomic_fetch_add(&failures, 1) < 10)                       \
			fprintf(stderr, "FAIL %s: %s\n", mode, m_);            \
	} while (0)

/* ---- progress: one counter per worker, followed by the watchdog ---- */

#define MAXSLOTS 32

struct slot {
	atomic_long n;                   /* steps done */
	atomic_int live;                 /* 1 while the watchdog follows it */
	const char *what;
	long quota;                      /* steps the mode waits for (0: none) */
};

static struct slot slots[MAXSLOTS];
static atomic_int nslots;

static struct slot *slot_new(const char *what, long quota)
{
	int i = atomic_fetch_add(&nslots, 1);

	if (i >= MAXSLOTS)
		abort();
	slots[i].what = what;
	slots[i].quota = quota;
	atomic_store(&slots[i].live, 1);
	return &slots[i];
}

static void step(struct slot *s)
{
	atomic_fetch_add_explicit(&s->n, 1, memory_order_relaxed);
}

static void slot_done(struct slot *s)
{
	atomic_store(&s->live, 0);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static ino_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* socket, bind the activated address (adopts), listen, close. */
static void adopt_once(void)
{
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0) {
		FAILF("socket: %s", strerror(errno));
		return;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	errno = 4242;
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		FAILF("bind of the activated address failed: %s", strerror(errno));
	else if (errno != 4242)
		FAILF("errno clobbered by a successful bind: %d", errno);
	else if (ino_of(s) != inherited)
		FAILF("lost adoption: bound a socket of its own (ino %lu, inherited %lu)",
		      (unsigned long)ino_of(s), (unsigned long)inherited);
	else if (listen(s, 16) < 0)
		FAILF("listen: %s", strerror(errno));
	else
		atomic_fetch_add(&adopted, 1);
	errno = 4343;
	if (close(s) < 0)
		FAILF("close: %s", strerror(errno));
	else if (errno != 4343)
		FAILF("errno clobbered by close: %d", errno);
}

static void native_once(void)
{
	struct sockaddr_in a = addr;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_port = 0;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		FAILF("native bind: %s", strerror(errno));
	else if (ino_of(s) == inherited)
		FAILF("a port-0 bind was adopted");
	else
		atomic_fetch_add(&native, 1);
	if (s >= 0)
		close(s);
}

static void *adopter(void *arg)
{
	struct slot *s = arg;

	while (!atomic_load(&stop)) {
		adopt_once();
		step(s);
	}
	return NULL;
}

static void *nativer(void *arg)
{
	struct slot *s = arg;

	while (!atomic_load(&stop)) {
		native_once();
		step(s);
	}
	return NULL;
}

static void *duper(void *arg)
{
	struct slot *s = arg;
	int base = 900 + (int)(s - slots) * 10;

	while (!atomic_load(&stop)) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

		for (int k = 0; k < 5 && fd >= 0; k++) {
			/* (no dup2 while children are spawned: its copy is not CLOEXEC) */
			if (!spawning && dup2(fd, base + k) < 0)
				FAILF("dup2: %s", strerror(errno));
			if (dup3(fd, base + k, O_CLOEXEC) < 0)
				FAILF("dup3: %s", strerror(errno));
			close(base + k);
		}
		if (fd >= 0)
			close(fd);
		step(s);
	}
	return NULL;
}

/* Every second: has every live worker's counter moved in the last stall_s
 * seconds?  If one has not, the run is stuck: report every worker, kill the
 * child the main thread waits for (else it would outlive us, holding the
 * test's pipes), exit 3. */
static void *watchdog(void *arg)
{
	long last[MAXSLOTS], since[MAXSLOTS];
	int seen[MAXSLOTS] = { 0 };
	sigset_t all;

	(void)arg;
	/* signals go to the main thread: the SIGALRM handler must not run here */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		int n = atomic_load(&nslots), stuck = -1;
		long t = now_ms();

		for (int i = 0; i < n && i < MAXSLOTS; i++) {
			long c = atomic_load_explicit(&slots[i].n, memory_order_relaxed);

			if (!seen[i] || c != last[i]) {
				seen[i] = 1;
				last[i] = c;
				since[i] = t;
			} else if (atomic_load(&slots[i].live) && t - since[i] >= stall_s * 1000L &&
				   stuck < 0) {
				stuck = i;
			}
		}
		if (stuck >= 0) {
			/* no stdio: the stuck thread may hold its lock */
			char m[2048];
			int k = snprintf(m, sizeof(m),
					 "FAIL %s: DEADLOCK or livelock: no progress in %s for %ld s "
					 "(adopted %ld, handler adopted %ld, signals %ld)\n",
					 mode, slots[stuck].what, stall_s, atomic_load(&adopted),
					 atomic_load(&handler_adopted), atomic_load(&handler_runs));
			pid_t c = atomic_load(&waited_child);

			for (int i = 0; i < n && i < MAXSLOTS && k > 0 && (size_t)k < sizeof(m); i++)
				k += snprintf(m + k, sizeof(m) - (size_t)k,
					      "  %-28s %ld steps (quota %ld)%s, last step %ld s ago\n",
					      slots[i].what, last[i], slots[i].quota,
					      atomic_load(&slots[i].live) ? "" : ", done",
					      (t - since[i]) / 1000);
			if (c > 0 && k > 0 && (size_t)k < sizeof(m))
				k += snprintf(m + k, sizeof(m) - (size_t)k,
					      "  the main thread waits for child %d: killing it\n",
					      (int)c);
			if (k > (int)sizeof(m) - 1)
				k = (int)sizeof(m) - 1;
			ssize_t w = write(2, m, k > 0 ? (size_t)k : 0);

			(void)w;
			if (c > 0)
				kill(c, SIGKILL);
			_exit(3);
		}
		sleep(1);
	}
	return NULL;
}

static int run_threads(pthread_t *t, struct slot **s, int nadopt, int nnative, int ndup)
{
	int n = 0;

	for (int i = 0; i < nadopt; i++, n++)
		pthread_create(&t[n], NULL, adopter, s[n] = slot_new("adopting thread", ADOPT_EACH));
	for (int i = 0; i < nnative; i++, n++)
		pthread_create(&t[n], NULL, nativer, s[n] = slot_new("port-0 thread", NATIVE_EACH));
	for (int i = 0; i < ndup; i++, n++)
		pthread_create(&t[n], NULL, duper, s[n] = slot_new("dup thread", DUP_EACH));
	return n;
}

/* Wait until every thread has done its quota (the watchdog bounds it). */
static void wait_quotas(struct slot **s, int n)
{
	for (;;) {
		int done = 1;

		for (int i = 0; i < n; i++)
			done &= atomic_load(&s[i]->n) >= s[i]->quota;
		if (done)
			return;
		usleep(10000);
	}
}

static void join_all(pthread_t *t, struct slot **s, int n)
{
	wait_quotas(s, n);
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		slot_done(s[i]);
	}
	atomic_store(&stop, 0);
}

/* Reap a child of the main thread; the watchdog kills it if it hangs. */
static void wait_child(pid_t pid, const char *what)
{
	int st;
	pid_t r;

	atomic_store(&waited_child, pid);
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	atomic_store(&waited_child, 0);
	if (r < 0)
		FAILF("waitpid: %s", strerror(errno));
	else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		FAILF("%s child failed: status 0x%x", what, st);
}

static void mode_fork(void)
{
	pthread_t t[8];
	struct slot *s[8], *me = slot_new("main thread (fork + wait)", FORKS);
	int n = run_threads(t, s, 4, 1, 1);

	for (int i = 0; i < FORKS; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			FAILF("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			long before = atomic_load(&failures);

			adopt_once();
			adopt_once();
			/* closing the registry's fd 3 closes the number (the shim
			 * keeps the socket elsewhere): adoption goes on */
			if (close(3) != 0 || ino_of(3) != 0)
				_exit(4);
			adopt_once();
			_exit(atomic_load(&failures) == before ? 0 : 5);
		}
		wait_child(pid, "fork");
		step(me);
	}
	join_all(t, s, n);
	slot_done(me);
}

static void mode_spawn(void)
{
	pthread_t t[8];
	struct slot *s[8], *me = slot_new("main thread (spawn + wait)", 2 * SPAWNS);
	int n = (spawning = 1, run_threads(t, s, 4, 1, 1));
	char *argv[] = { (char *)self, "--child-check", NULL };

	for (int i = 0; i < SPAWNS; i++) {
		pid_t pid;

		if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0) {
			FAILF("posix_spawn: %s", strerror(errno));
			break;
		}
		wait_child(pid, "posix_spawn");
		step(me);
		pid = vfork();
		if (pid == 0) {
			execve(self, argv, environ);
			_exit(127);
		}
		if (pid < 0) {
			FAILF("vfork: %s", strerror(errno));
			break;
		}
		wait_child(pid, "vfork+execve");
		step(me);
	}
	join_all(t, s, n);
	slot_done(me);
}

/* ---- the signal storm ---- */

static int bind_in_handler;
static struct slot *handler_slot;
static atomic_long main_steps;
static long handler_step, handler_used;  /* the handler's own (one thread) */

/* What the handler does; also called directly to measure its cost. */
static void handler_work(void)
{
	if (bind_in_handler) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s >= 0) {
			if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) == 0 && ino_of(s) == inherited)
				atomic_fetch_add(&handler_adopted, 1);
			else
				atomic_fetch_add(&handler_lost, 1);
			close(s);
		}
	} else {
		static _Atomic int closed3;
		int fd;

		/* once: the program closes the registry's fd 3 (the shim moves its
		 * copy away, under its lock, from a signal handler); after that 3
		 * is a number the program's own fds take */
		if (!atomic_exchange(&closed3, 1) && close(3) != 0)
			FAILF("close(3) in the handler: %s", strerror(errno));
		fd = dup(0);
		if (fd >= 0)
			close(fd);
	}
}

static void on_alarm(int sig)
{
	int saved = errno;
	long s = atomic_load(&main_steps);

	(void)sig;
	atomic_fetch_add(&handler_runs, 1);
	if (s != handler_step) {
		handler_step = s;
		handler_used = 0;
	}
	if (handler_used >= HANDLER_BUDGET) {
		/* the main thread has not moved since: let it */
		atomic_fetch_add(&handler_skipped, 1);
	} else {
		handler_used++;
		handler_work();
		if (handler_slot)
			step(handler_slot);
	}
	errno = saved;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The handler's median cost in this run, in ns. */
static long handler_cost_ns(void)
{
	long t[101];

	for (int i = 0; i < 101; i++) {
		long t0 = now_ns();

		handler_work();
		t[i] = now_ns() - t0;
	}
	qsort(t, 101, sizeof(t[0]), cmp_long);
	atomic_store(&handler_adopted, 0);
	atomic_store(&handler_lost, 0);
	return t[50];
}

static long period_us, cost_ns;

static void mode_signals(int bind_too)
{
	struct sigaction sa;
	struct itimerval it, off = { { 0, 0 }, { 0, 0 } };
	struct slot *me;

	bind_in_handler = bind_too;
	cost_ns = handler_cost_ns();
	period_us = (SIGNAL_FACTOR * cost_ns + 999) / 1000;
	if (period_us < MIN_PERIOD_US)
		period_us = MIN_PERIOD_US;
	it.it_interval.tv_sec = it.it_value.tv_sec = period_us / 1000000;
	it.it_interval.tv_usec = it.it_value.tv_usec = period_us % 1000000;

	me = slot_new("main thread (bind loop)", MAIN_STEPS);
	handler_slot = slot_new("SIGALRM handler", HANDLER_WORK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (atomic_load(&me->n) < MAIN_STEPS || atomic_load(&handler_slot->n) < HANDLER_WORK) {
		adopt_once();
		native_once();
		atomic_fetch_add(&main_steps, 1);
		step(me);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
	slot_done(me);
	slot_done(handler_slot);
	if (atomic_load(&handler_lost))
		FAILF("%ld binds in the signal handler did not adopt", atomic_load(&handler_lost));
}

static int child_check(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int bad = 0;

	while (d && (de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd >= 3 && fd != dirfd(d)) {
			char l[256] = "";
			char p[64];

			snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
			if (readlink(p, l, sizeof(l) - 1) < 0)
				strcpy(l, "?");
			fprintf(stderr, "FAIL child-check: inherited fd %d (%s)\n", fd, l);
			bad = 1;
		}
	}
	if (d)
		closedir(d);
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "LISTEN_", 7)) {
			fprintf(stderr, "FAIL child-check: inherited %s\n", *e);
			bad = 1;
		}
	return bad;
}

int main(int argc, char **argv)
{
	pthread_t wd, t[16];
	struct slot *s[16];
	int before, after;
	const char *st = getenv("HARD_CONC_STALL");
	long t0;

	self = argv[0];
	if (argc == 2 && !strcmp(argv[1], "--child-check"))
		return child_check();
	if (argc != 3) {
		fprintf(stderr, "usage: hard-conc MODE PORT | --child-check\n");
		return 2;
	}
	mode = argv[1];
	if (st && atol(st) > 0)
		stall_s = atol(st);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
	inherited = ino_of(3);
	if (!inherited) {
		fprintf(stderr, "FAIL %s: fd 3 is not open: run me under an activator\n", mode);
		return 1;
	}
	{
		/* the watchdog starts with every signal blocked (it may not run
		 * before the SIGALRM storm begins) */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		pthread_create(&wd, NULL, watchdog, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_detach(wd);
	adopt_once();                            /* first bind: the shim probes */
	before = count_fds();
	t0 = now_ms();

	if (!strcmp(mode, "threads")) {
		int n = run_threads(t, s, 8, 2, 2);

		join_all(t, s, n);
	} else if (!strcmp(mode, "fork")) {
		mode_fork();
	} else if (!strcmp(mode, "spawn")) {
		mode_spawn();
	} else if (!strcmp(mode, "signals-close")) {
		mode_signals(0);
	} else if (!strcmp(mode, "signals-bind")) {
		mode_signals(1);
	} else {
		fprintf(stderr, "hard-conc: unknown mode %s\n", mode);
		return 2;
	}

	after = count_fds();
	if (after != before)
		FAILF("fd leak: %d open fds before, %d after", before, after);
	if (strcmp(mode, "signals-close") != 0 && ino_of(3) != inherited)
		FAILF("fd 3 is no longer the inherited socket");
	if (atomic_load(&adopted) < 100)
		FAILF("only %ld adoptions", atomic_load(&adopted));
	printf("%s %s: %ld adoptions, %ld native binds, %ld signals (%ld adoptions in the handler, "
	       "%ld over its budget), fds %d -> %d, %.1f s",
	       atomic_load(&failures) ? "FAIL" : "PASS", mode, atomic_load(&adopted),
	       atomic_load(&native), atomic_load(&handler_runs), atomic_load(&handler_adopted),
	       atomic_load(&handler_skipped), before, after, (now_ms() - t0) / 1000.0);
	if (period_us)
		printf(", a signal every %ld us (%d x the handler's median %.1f us)", period_us,
		       SIGNAL_FACTOR, cost_ns / 1000.0);
	printf("\n");
	return atomic_load(&failures) ? 1 : 0;
}
