/* SPDX-License-Identifier: MIT */
/* hard-logflood: the shim's log never floods or stalls its host.
 *
 *   hard-logflood unread|full SHIM SERVER
 *
 * Creates 4096 listening TCP sockets on 127.0.0.1 at fds 3..4098 and starts
 * SERVER (sda-testserver) activated with them (LISTEN_PID its own pid), the
 * shim preloaded, told to bind the last socket's address, serve one
 * connection, then wait for EOF on its stdin before it exits.  Its stderr is a pipe that is read only after the server has
 * answered:
 *   unread  an empty pipe (64 KiB): one "never adopted" line per socket at
 *           the first accept() would fill it and stop the server; the report
 *           must be bounded (8 lines and a summary);
 *   full    a pipe already full before the server starts: every log write
 *           would block; the server must answer all the same, and once the
 *           pipe is drained, the report at exit says how many lines were
 *           dropped.
 * Adoption is proven by the answer itself: the server can only bind the
 * address through the shim (the inherited socket holds it), so without the
 * shim it fails and nothing answers.  Every wait is bounded; the server is
 * killed by pid on the way out.  Exit 0 pass, 1 fail, 77 skip. */
#include "waitbound.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSOCK 4096
#define FIRST 3
#define WAIT_MS 60000           /* a stalled server never answers: not a race */

static pid_t child = -1;
static char out[1 << 20];
static size_t nout;

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "FAIL: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n---- server's stderr (%zu bytes):\n%.*s----\n", nout,
		(int)(nout > 4000 ? 4000 : nout), out);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	exit(1);
}

/* Read what the pipe holds now (non-blocking), or until EOF when `to_eof`
 * (bounded by WAIT_MS). */
static void drain(int fd, int to_eof)
{
	long end = sda_now_ms() + WAIT_MS;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(end - sda_now_ms()), r;
		ssize_t n;

		if (left <= 0)
			fail("%s", "the server's stderr did not reach EOF in time");
		r = poll(&p, 1, to_eof ? left : 0);
		if (r <= 0)
			return;
		n = read(fd, nout < sizeof(out) ? out + nout : (char[4096]){ 0 },
			 nout < sizeof(out) ? sizeof(out) - nout : 4096);
		if (n <= 0)
			return;
		if (nout < sizeof(out))
			nout += (size_t)n;
	}
}

static int count(const char *needle)
{
	int n = 0;

	for (const char *p = out; (p = memmem(p, nout - (size_t)(p - out), needle, strlen(needle)));
	     p += strlen(needle))
		n++;
	return n;
}

int main(int argc, char **argv)
{
	int full, pfd[2], in[2], port = 0, c;
	struct rlimit rl = { NSOCK + 256, NSOCK + 256 };
	char spec[64], fds[16], reply[64];
	long end;

	if (argc != 4 || (strcmp(argv[1], "unread") && strcmp(argv[1], "full"))) {
		fprintf(stderr, "usage: hard-logflood unread|full SHIM SERVER\n");
		return 2;
	}
	full = !strcmp(argv[1], "full");
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		printf("SKIP: cannot raise RLIMIT_NOFILE to %d: %s\n", NSOCK + 256, strerror(errno));
		return 77;
	}
	/* fds 3.. must be free for the sockets: stdio only below them */
	for (int fd = FIRST; fd < NSOCK + 256; fd++)
		close(fd);
	for (int i = 0; i < NSOCK; i++) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t l = sizeof(sin);
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s != FIRST + i || bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    listen(s, 16) < 0 || getsockname(s, (struct sockaddr *)&sin, &l) < 0)
			fail("cannot make inherited socket %s", strerror(errno));
		port = ntohs(sin.sin_port);
	}
	if (pipe2(pfd, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
		fail("pipe: %s", strerror(errno));
	/* both ends far above the inherited fds */
	for (int k = 0; k < 2; k++) {
		int moved = fcntl(pfd[k], F_DUPFD_CLOEXEC, NSOCK + 128);

		close(pfd[k]);
		pfd[k] = moved;
	}
	if (full) {
		int fl = fcntl(pfd[1], F_GETFL);
		static const char junk[4096] = { 'x' };

		fcntl(pfd[1], F_SETFL, fl | O_NONBLOCK);
		while (write(pfd[1], junk, sizeof(junk)) > 0)
			;
		while (write(pfd[1], junk, 1) > 0)
			;
		fcntl(pfd[1], F_SETFL, fl);
	}
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%d", port);
	snprintf(fds, sizeof(fds), "%d", NSOCK);
	child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		char pid[32], pre[4096];
		int devnull = open("/dev/null", O_WRONLY);

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		snprintf(pre, sizeof(pre), "%s", argv[2]);
		dup2(pfd[1], 2);
		dup2(devnull, 1);
		dup2(in[0], 0);
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDS", fds, 1);
		unsetenv("LISTEN_FDNAMES");
		setenv("LD_PRELOAD", pre, 1);
		setenv("SDADOPT_LOG", "info", 1);
		execl(argv[3], argv[3], "bind", spec, "serve", "wait", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	close(in[0]);

	/* the client: connect, send, wait for the answer (stderr still unread) */
	{
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		struct pollfd p;
		ssize_t n;

		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    write(c, "hi\n", 3) != 3)
			fail("client: %s", strerror(errno));
		p.fd = c;
		p.events = POLLIN;
		end = sda_now_ms() + WAIT_MS;
		do
			n = poll(&p, 1, (int)(end - sda_now_ms()));
		while (n < 0 && errno == EINTR && sda_now_ms() < end);
		if (n <= 0)
			fail("%s", "the server did not answer its first connection while nobody read its stderr");
		n = read(c, reply, sizeof(reply) - 1);
		if (n <= 0 || memcmp(reply, "echo:", 5) != 0)
			fail("%s", "the server's answer is not an echo");
		close(c);
	}
	/* now read its stderr, let it go on to exit (its `wait` step ends on
	 * EOF of stdin), and read the rest until it has exited (bounded) */
	drain(pfd[0], 0);
	close(in[1]);
	drain(pfd[0], 1);
	{
		int st = sda_wait_bounded(child, WAIT_MS, NULL);

		if (st < 0)
			fail("waitpid: %s", strerror(errno));
		child = -1;     /* reaped, killed first if it was still there at the deadline */
		if (st == 124)
			fail("%s", "the server did not exit after serving");
		if (st != 0)
			fail("%s", "the server failed");
	}
	if (full) {
		if (!count("sdadopt: warning: ") || !count(" were dropped: standard error was full"))
			fail("%s", "no line says how many log lines were dropped");
	} else {
		int lines = count("]: sdadopt: ");

		if (count("sdadopt: info: adopted inherited fd 4098 ") != 1)
			fail("%s", "no adoption line for the last inherited socket");
		if (count("... and 4087 more inherited fds were never adopted when the program started serving") != 1 ||
		    count("... and 4087 more inherited fds were never adopted at exit") != 1)
			fail("%s", "no summary line for the sockets past the first 8");
		if (lines > 1 + 2 * 9)
			fail("%s", "more log lines than 1 adoption + 2 bounded reports");
	}
	printf("PASS %s: answered with stderr %s; %zu bytes of log\n", argv[1],
	       full ? "full" : "unread", nout);
	return 0;
}
