/* SPDX-License-Identifier: MIT */
/* static-server: a small TCP server for tests/launcher, linked -static so
 * that LD_PRELOAD cannot reach it.  Usage: static-server IP PORT [MODE]
 * It binds IP:PORT itself (as an unmodified server does), prints
 * "listening fd=N ino=INO pid=P", and answers each connection with
 * "hello from static-server ino=INO\n".  MODE:
 *   serve     (default) serve until a signal ends it (default dispositions)
 *   exit42    on SIGTERM exit with status 42
 *   thread    bind in a second thread
 *   prefork   two workers accept after the fork; each adds its pid
 *   outbound Q  serve; each answer also has two lines from 127.0.0.1:Q,
 *             read over outbound connections made while serving, one plain
 *             and one bound to 127.0.0.1:0 first:
 *             "outbound plain|bound ino=INO got=LINE" (INO: the outbound
 *             socket's inode; got= empty when the connection failed)
 *   closefds  close every fd >= 3 (close_range) before it binds, then serve
 *   storm-restart N, storm-intr N
 *             a SIGALRM storm (setitimer, every 100 us; a handler that
 *             counts, with SA_RESTART or without) while it binds IP:PORT N
 *             times (socket, bind, check, close); then the storm stops, it
 *             binds once more, listens and answers one connection with
 *             "storm binds=N adopted=A eintr=E other=O signals=S same_ino=0|1"
 *             and exits 0 (a progress line "storm at I" every 100 binds) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ip;
static int port, lfd = -1;
static unsigned long ino;

static void on_term(int sig)
{
	(void)sig;
	_exit(42);
}

static int outport = -1;

/* the address IP:PORT (or the unix path) */
static socklen_t make_addr(struct sockaddr_storage *ssp)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (ip[0] == '/' || ip[0] == '@') {
		struct sockaddr_un *s = (struct sockaddr_un *)&ss;
		size_t n = strlen(ip);

		s->sun_family = AF_UNIX;
		memcpy(s->sun_path, ip, n);
		if (ip[0] == '@')
			s->sun_path[0] = '\0';
		else if (unlink(ip) < 0 && errno != ENOENT) /* a stale file, as servers do */
			perror("static-server: unlink");
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (ip[0] == '/'));
	} else if (strchr(ip, ':')) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, ip, &s->sin_addr);
		len = sizeof(*s);
	}
	*ssp = ss;
	return len;
}

static void *do_bind(void *unused)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss);
	int one = 1;
	struct stat st;

	(void)unused;
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("static-server: socket");
		exit(3);
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "static-server: bind %s:%d failed: %s\n", ip, port, strerror(errno));
		fflush(stderr);
		exit(3);
	}
	if (listen(lfd, 16) < 0) {
		perror("static-server: listen");
		exit(3);
	}
	if (fstat(lfd, &st) == 0)
		ino = (unsigned long)st.st_ino;
	return NULL;
}

/* an outbound connection to 127.0.0.1:outport (bound to 127.0.0.1:0
 * first when `bound`): appends "outbound KIND ino=INO got=LINE\n" */
static void outbound(char *msg, size_t cap, int bound)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	char got[160] = "";
	struct stat st;
	unsigned long oino = 0;
	size_t k = strlen(msg);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bound && bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		snprintf(got, sizeof(got), "(bind: %s)", strerror(errno));
	a.sin_port = htons((unsigned short)outport);
	if (fd >= 0 && !got[0]) {
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			snprintf(got, sizeof(got), "(connect: %s)", strerror(errno));
		} else {
			size_t n = 0;
			ssize_t r;

			while (n < sizeof(got) - 1 && (r = read(fd, got + n, sizeof(got) - 1 - n)) > 0)
				n += (size_t)r;
			got[n] = '\0';
			if (n && got[n - 1] == '\n')
				got[n - 1] = '\0';
		}
	}
	if (fd >= 0 && fstat(fd, &st) == 0)
		oino = (unsigned long)st.st_ino;
	if (fd >= 0)
		close(fd);
	snprintf(msg + k, cap - k, "outbound %s ino=%lu got=%s\n", bound ? "bound" : "plain", oino, got);
}

static void serve(void)
{
	for (;;) {
		char msg[640];
		int c = accept(lfd, NULL, NULL), n;

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("static-server: accept");
			exit(4);
		}
		n = snprintf(msg, sizeof(msg), "hello from static-server ino=%lu pid=%ld\n", ino,
			     (long)getpid());
		if (outport >= 0) {
			outbound(msg, sizeof(msg), 0);
			outbound(msg, sizeof(msg), 1);
			n = (int)strlen(msg);
		}
		if (write(c, msg, (size_t)n) < 0)
			perror("static-server: write");
		close(c);
	}
}

/* ---- storm ---- */
static volatile sig_atomic_t nsig;

static void on_alarm(int sig)
{
	(void)sig;
	nsig++;
}

static int storm(int count, int restart)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss);
	struct sigaction sa;
	struct itimerval it = {{0, 100}, {0, 100}}, off = {{0, 0}, {0, 0}};
	int adopted = 0, eintr = 0, other = 0, same = 1, one = 1;
	unsigned long first = 0;
	char msg[256];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < count; i++) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct stat st;

		if (fd < 0) {
			if (errno == EINTR) { /* socket() never waits: not expected either */
				eintr++;
				continue;
			}
			perror("static-server: socket");
			return 3;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
			adopted++;
			if (fstat(fd, &st) == 0) {
				if (!first)
					first = (unsigned long)st.st_ino;
				else if (first != (unsigned long)st.st_ino)
					same = 0;
			}
		} else if (errno == EINTR) {
			eintr++;
		} else {
			if (!other)
				fprintf(stderr, "static-server: storm: bind %d: %s\n", i, strerror(errno));
			other++;
		}
		close(fd);
		if (i % 100 == 99) {
			printf("storm at %d\n", i + 1);
			fflush(stdout);
		}
	}
	setitimer(ITIMER_REAL, &off, NULL);
	do_bind(NULL);
	printf("listening fd=%d ino=%lu pid=%ld\n", lfd, ino, (long)getpid());
	fflush(stdout);
	for (;;) {
		int c = accept(lfd, NULL, NULL), n;

		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0) {
			perror("static-server: accept");
			return 4;
		}
		n = snprintf(msg, sizeof(msg), "storm binds=%d adopted=%d eintr=%d other=%d signals=%ld same_ino=%d ino=%lu\n",
			     count, adopted, eintr, other, (long)nsig, same && first == ino, ino);
		if (write(c, msg, (size_t)n) < 0)
			perror("static-server: write");
		close(c);
		return 0;
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 3 ? argv[3] : "serve";

	if (argc < 3) {
		fprintf(stderr, "usage: static-server IP PORT [serve|exit42|thread|prefork|outbound Q|"
				"closefds|storm-restart N|storm-intr N]\n");
		return 2;
	}
	ip = argv[1];
	port = atoi(argv[2]);
	if (!strncmp(mode, "storm-", 6))
		return storm(argc > 4 ? atoi(argv[4]) : 1000, !strcmp(mode, "storm-restart"));
	if (!strcmp(mode, "outbound"))
		outport = argc > 4 ? atoi(argv[4]) : 0;
	if (!strcmp(mode, "closefds")) {
		/* as daemons that sweep their fds do: everything above stderr */
		if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
			for (int fd = 3; fd < 65536; fd++)
				close(fd);
	}
	if (!strcmp(mode, "exit42"))
		signal(SIGTERM, on_term);
	if (!strcmp(mode, "thread")) {
		pthread_t t;

		if (pthread_create(&t, NULL, do_bind, NULL) != 0 || pthread_join(t, NULL) != 0)
			return 5;
	} else {
		do_bind(NULL);
	}
	printf("listening fd=%d ino=%lu pid=%ld\n", lfd, ino, (long)getpid());
	fflush(stdout);
	if (!strcmp(mode, "prefork")) {
		for (int i = 0; i < 2; i++)
			if (fork() == 0) {
				/* workers end with the master (SIGTERM: exit 42) */
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				if (getppid() == 1)
					_exit(0);
				serve();
			}
		signal(SIGTERM, on_term);
		for (;;)
			pause();
	}
	serve();
}
