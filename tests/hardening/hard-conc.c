/* SPDX-License-Identifier: MIT */
/* hard-conc: concurrency, fork and signal stress, run as an activated server
 * with the shim preloaded (hard-activate --tcp 127.0.0.1 -- hard-conc MODE
 * {port0}).  fd 3 is the inherited listener on 127.0.0.1:PORT.
 *
 *   threads        8 threads bind the activated address and close in a loop
 *                  (each bind must adopt: same inode as fd 3), 2 threads bind
 *                  port 0 natively, 1 thread dup2()s onto fds and closes them
 *   fork           threads bind/close while the main thread forks; each child
 *                  binds (adopts) and closes, then exits
 *   spawn          threads bind/close while the main thread starts children
 *                  with posix_spawn() and vfork()+execve(); each child checks
 *                  that it inherited no socket and no LISTEN_*
 *   signals-close  a SIGALRM storm (setitimer, 50 us) whose handler dup()s and
 *                  close()s (and close()s fd 3) while the main thread binds
 *                  and closes in a loop
 *   signals-bind   the same, the handler itself socket()/bind()/close()s the
 *                  activated address (all async-signal-safe in POSIX)
 *
 * Every mode checks: no lost adoption, errno kept across successful hooked
 * calls, fd 3 still the inherited socket at the end, the same number of open
 * fds before and after (no leak), and no deadlock (a watchdog thread exits 3
 * after 25 s).  Prints "PASS MODE ..." and exits 0, or "FAIL ..." exit 1. */
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

static struct sockaddr_in addr;
static ino_t inherited;
static const char *self, *mode;
static atomic_long adopted, native, failures, handler_adopted, handler_runs;
static atomic_int stop;
static int spawning;

#define FAILF(...)                                                             \
	do {                                                                   \
		char m_[256];                                                  \
		snprintf(m_, sizeof(m_), __VA_ARGS__);                         \
		if (atomic_fetch_add(&failures, 1) < 10)                       \
			fprintf(stderr, "FAIL %s: %s\n", mode, m_);            \
	} while (0)

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
	(void)arg;
	while (!atomic_load(&stop))
		adopt_once();
	return NULL;
}

static void *nativer(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		native_once();
	return NULL;
}

static void *duper(void *arg)
{
	int base = 900 + (int)(long)arg * 10;

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
	}
	return NULL;
}

static void *watchdog(void *arg)
{
	struct timespec t0, t;
	sigset_t all;

	/* signals go to the main thread: the SIGALRM handler must not run here */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sleep(1);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < (long)arg);
	{
		/* no stdio: the stuck thread may hold its lock */
		char m[256];
		int k = snprintf(m, sizeof(m),
				 "FAIL %s: DEADLOCK or livelock: still running after %ld s "
				 "(adopted %ld, handler adopted %ld)\n",
				 mode, (long)arg, atomic_load(&adopted), atomic_load(&handler_adopted));
		ssize_t w = write(2, m, k > 0 && (size_t)k < sizeof(m) ? (size_t)k : 0);

		(void)w;
	}
	_exit(3);
}

static int run_threads(pthread_t *t, int nadopt, int nnative, int ndup)
{
	int n = 0;

	for (int i = 0; i < nadopt; i++)
		pthread_create(&t[n++], NULL, adopter, NULL);
	for (int i = 0; i < nnative; i++)
		pthread_create(&t[n++], NULL, nativer, NULL);
	for (int i = 0; i < ndup; i++)
		pthread_create(&t[n++], NULL, duper, (void *)(long)i);
	return n;
}

static void join_all(pthread_t *t, int n)
{
	atomic_store(&stop, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	atomic_store(&stop, 0);
}

static int wait_child(pid_t pid, const char *what)
{
	int st;

	for (int ms = 0; ms < 20000; ms++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				FAILF("%s child failed: status 0x%x", what, st);
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			FAILF("waitpid: %s", strerror(errno));
			return -1;
		}
		usleep(1000);
	}
	FAILF("%s child hung (deadlock after fork?): killed", what);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void mode_fork(void)
{
	pthread_t t[8];
	int n = run_threads(t, 4, 1, 1);

	for (int i = 0; i < 150; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			FAILF("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			long before = atomic_load(&failures);

			adopt_once();
			adopt_once();
			if (close(3) != 0 || ino_of(3) != inherited)
				_exit(4);        /* the inherited fd must stay protected */
			_exit(atomic_load(&failures) == before ? 0 : 5);
		}
		wait_child(pid, "fork");
	}
	join_all(t, n);
}

static void mode_spawn(void)
{
	pthread_t t[8];
	int n = (spawning = 1, run_threads(t, 4, 1, 1));
	char *argv[] = { (char *)self, "--child-check", NULL };

	for (int i = 0; i < 60; i++) {
		pid_t pid;

		if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0) {
			FAILF("posix_spawn: %s", strerror(errno));
			break;
		}
		wait_child(pid, "posix_spawn");
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
	}
	join_all(t, n);
}

static int bind_in_handler;

static void on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	atomic_fetch_add(&handler_runs, 1);
	if (bind_in_handler) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s >= 0) {
			if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) == 0 && ino_of(s) == inherited)
				atomic_fetch_add(&handler_adopted, 1);
			close(s);
		}
	} else {
		int fd = dup(0);

		if (fd >= 0)
			close(fd);
		close(3);                        /* protected: a no-op */
	}
	errno = saved;
}

static void mode_signals(int bind_too)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 50 }, { 0, 50 } }, off = { { 0, 0 }, { 0, 0 } };
	struct timespec t0, t;

	bind_in_handler = bind_too;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 200; i++) {
			adopt_once();
			native_once();
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 5);
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
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
	int before, after;

	self = argv[0];
	if (argc == 2 && !strcmp(argv[1], "--child-check"))
		return child_check();
	if (argc != 3) {
		fprintf(stderr, "usage: hard-conc MODE PORT | --child-check\n");
		return 2;
	}
	mode = argv[1];
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
		pthread_create(&wd, NULL, watchdog, (void *)25L);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_detach(wd);
	adopt_once();                            /* first bind: the shim probes */
	before = count_fds();

	if (!strcmp(mode, "threads")) {
		int n = run_threads(t, 8, 2, 2);

		sleep(4);
		join_all(t, n);
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
	if (ino_of(3) != inherited)
		FAILF("fd 3 is no longer the inherited socket");
	if (atomic_load(&adopted) < 100)
		FAILF("only %ld adoptions", atomic_load(&adopted));
	printf("%s %s: %ld adoptions, %ld native binds, %ld signals (%ld adoptions in the handler), fds %d -> %d\n",
	       atomic_load(&failures) ? "FAIL" : "PASS", mode, atomic_load(&adopted),
	       atomic_load(&native), atomic_load(&handler_runs), atomic_load(&handler_adopted),
	       before, after);
	return atomic_load(&failures) ? 1 : 0;
}
