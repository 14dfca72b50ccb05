/* SPDX-License-Identifier: MIT */
/* The shim's side of the fd store (SDADOPT_FDSTORE=1), without systemd: a
 * server of ours (this program, --serve N) listens on N sockets with the
 * shim preloaded, and a NOTIFY_SOCKET of ours (or a bad one) receives what
 * the shim hands over.  Checked: one FDSTORE=1/FDNAME= message with the
 * listening socket per socket (listen() twice on it), errno kept; and for an
 * absent, relative, unreachable, wrong-type or full NOTIFY_SOCKET, a store
 * that is full ($FDSTORE), a bad SDADOPT_FDSTORE, and no SDADOPT_FDSTORE at
 * all: the line said (once), and the server runs as without the shim.
 *
 *   fdstore-notify SHIM     the test (TAP output; exit 1 on a failure)
 *   fdstore-notify --serve N
 *
 * Every wait is bounded (DEADLINE_MS); a server that hangs is killed. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 20000
#define MAXS 4

static int fails, n_test;

static void check(int ok, const char *what, const char *detail)
{
	n_test++;
	printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", n_test, what, detail && !ok ? ": " : "",
	       detail && !ok ? detail : "");
	if (!ok)
		fails++;
}

/* ------------------------------------------------------------ the server */
static int serve(int n)
{
	int fds[MAXS], ok = 1;

	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t l = sizeof(a);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof(a)) < 0)
			return 2;
		errno = EILSEQ;
		if (listen(fds[i], 16) != 0)
			return 3;
		if (errno != EILSEQ)
			ok = 0;
		if (listen(fds[i], 32) != 0)          /* again: handed once */
			return 3;
		if (getsockname(fds[i], (struct sockaddr *)&a, &l) < 0)
			return 4;
		printf("port %d\n", ntohs(a.sin_port));
	}
	printf("%s\n", ok ? "errno kept" : "errno clobbered");
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		int c;

		if (poll(&p, 1, DEADLINE_MS) != 1 || (c = accept(fds[i], NULL, NULL)) < 0)
			return 5;
		if (write(c, "hello\n", 6) != 6)
			return 6;
		close(c);
	}
	return 0;
}

/* ------------------------------------------------------------- the test */
struct run {
	int ports[MAXS], nports, errno_kept, status;
	char err[8192];
	size_t errlen;
};

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* read fd until EOF or the deadline into buf (NUL-terminated) */
static size_t slurp(int fd, char *buf, size_t cap, long deadline)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			break;
		r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap - 1)
			break;
	}
	buf[n] = '\0';
	return n;
}

static int talk(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char b[64];
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 0;
	ok = slurp(s, b, sizeof(b), now_ms() + DEADLINE_MS) == 6 && strcmp(b, "hello\n") == 0;
	close(s);
	return ok;
}

/* run the server with env (NULL-terminated "K=V" list) and n sockets;
 * talk to each socket; collect its stdout, stderr and status */
static void run_server(const char *self, char **env, int n, struct run *r)
{
	int out[2], err[2];
	char nbuf[8], obuf[512], *line, *save;
	long deadline = now_ms() + DEADLINE_MS;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	snprintf(nbuf, sizeof(nbuf), "%d", n);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		exit(99);
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execle(self, self, "--serve", nbuf, (char *)NULL, env);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	/* its ports, then talk to it: it runs (whatever the shim said) */
	{
		size_t k = 0;

		obuf[0] = '\0';
		while (k < sizeof(obuf) - 1 && !strstr(obuf, "errno ")) {
			struct pollfd p = { .fd = out[0], .events = POLLIN };
			long left = deadline - now_ms();
			ssize_t g;

			if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
			    (g = read(out[0], obuf + k, sizeof(obuf) - 1 - k)) <= 0)
				break;
			k += (size_t)g;
			obuf[k] = '\0';
			if (strstr(obuf, "errno ") && obuf[k - 1] != '\n')
				continue;
		}
	}
	for (line = strtok_r(obuf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "port ", 5) == 0 && r->nports < MAXS)
			r->ports[r->nports++] = atoi(line + 5);
		else if (strcmp(line, "errno kept") == 0)
			r->errno_kept = 1;
	}
	for (int i = 0; i < r->nports; i++)
		if (!talk(r->ports[i]))
			r->ports[i] = -r->ports[i];    /* marked: did not answer */
	r->errlen = slurp(err[0], r->err, sizeof(r->err), deadline);
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid) {
			r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	close(out[0]);
	close(err[0]);
}

static int lines_with(const struct run *r, const char *text)
{
	int n = 0;

	for (const char *p = r->err; (p = strstr(p, text)); p += strlen(text))
		n++;
	return n;
}

static int answered(const struct run *r, int n)
{
	if (r->nports != n || r->status != 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (r->ports[i] <= 0)
			return 0;
	return 1;
}

/* the messages waiting on the receiver: texts and fds */
struct msgs {
	int n;
	char text[MAXS][300];
	int fd[MAXS];
};

static void drain(int rx, struct msgs *m)
{
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < MAXS; i++)
		m->fd[i] = -1;
	while (m->n < MAXS) {
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int) * 4)];
		} c;
		struct iovec iov = { .iov_base = m->text[m->n], .iov_len = sizeof(m->text[0]) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
				     .msg_controllen = sizeof(c.b) };
		ssize_t g = recvmsg(rx, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (g < 0)
			break;
		m->text[m->n][g] = '\0';
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(&m->fd[m->n], CMSG_DATA(cm), sizeof(int));
		m->n++;
	}
}

static void drop(struct msgs *m)
{
	for (int i = 0; i < m->n; i++)
		if (m->fd[i] >= 0)
			close(m->fd[i]);
}

/* the fd received is the server's listening socket on port */
static int is_listener_on(int fd, int port)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int v = 0;
	socklen_t vl = sizeof(v);

	return fd >= 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0 && a.sin_family == AF_INET &&
	       ntohs(a.sin_port) == port &&
	       getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1;
}

static int dgram_rx(const char *path, int abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t l;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (abstract) {
		a.sun_path[0] = '\0';
		memcpy(a.sun_path + 1, path, strlen(path));
		l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		unlink(path);
		strcpy(a.sun_path, path);
		l = sizeof(a);
	}
	if (s < 0 || bind(s, (struct sockaddr *)&a, l) < 0)
		exit(99);
	return s;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/sdadopt-fdstore.XXXXXX", path[128], stream[128], preload[1024], ns[160],
	     detail[9000];
	const char *self = "/proc/self/exe";
	struct run r;
	struct msgs m;
	int rx;

	if (argc == 3 && strcmp(argv[1], "--serve") == 0)
		return serve(atoi(argv[2]));
	if (argc != 2) {
		fprintf(stderr, "usage: %s SHIM\n", argv[0]);
		return 2;
	}
	{
		static char exe[4096];
		ssize_t k = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (k <= 0 || !mkdtemp(dir))
			return 99;
		exe[k] = '\0';
		self = exe;
	}
#ifdef SDA_PRELOAD_FIRST
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s:%s", SDA_PRELOAD_FIRST, argv[1]);
#else
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", argv[1]);
#endif
	snprintf(path, sizeof(path), "%s/notify", dir);
	snprintf(stream, sizeof(stream), "%s/stream", dir);
	snprintf(ns, sizeof(ns), "NOTIFY_SOCKET=%s", path);

	/* stored: two sockets, each listen()ed twice: one message each */
	rx = dgram_rx(path, 0);
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=1", ns, "ASAN_OPTIONS=detect_leaks=0", NULL };
		char want[2][64];

		run_server(self, env, 2, &r);
		drain(rx, &m);
		snprintf(detail, sizeof(detail), "status %d, stderr: %s", r.status, r.err);
		check(answered(&r, 2), "stored: the server answers on both sockets", detail);
		check(r.errno_kept, "stored: listen() keeps errno", NULL);
		snprintf(detail, sizeof(detail), "%d messages", m.n);
		check(m.n == 2, "stored: one message per socket (listen() twice)", detail);
		for (int i = 0; i < 2; i++) {
			snprintf(want[i], sizeof(want[i]), "FDSTORE=1\nFDNAME=tcp-127.0.0.1_%d", r.ports[i]);
			check(m.n == 2 && strcmp(m.text[i], want[i]) == 0, "stored: FDSTORE=1 and FDNAME=tcp-127.0.0.1_PORT",
			      m.text[i]);
			check(m.n == 2 && is_listener_on(m.fd[i], r.ports[i]),
			      "stored: the fd is the server's listening socket", NULL);
		}
		check(lines_with(&r, "sdadopt: info: handed fd") == 2 && lines_with(&r, "sdadopt:") == 2,
		      "stored: one info line per socket", r.err);
		drop(&m);
	}
	close(rx);

	/* an abstract NOTIFY_SOCKET */
	rx = dgram_rx("sdadopt-fdstore-test", 1);
	{
		char ans[96];
		snprintf(ans, sizeof(ans), "NOTIFY_SOCKET=@sdadopt-fdstore-test");
		char *env[] = { preload, "SDADOPT_FDSTORE=1", ans, NULL };

		run_server(self, env, 1, &r);
		drain(rx, &m);
		check(answered(&r, 1), "abstract: the server answers", r.err);
		check(m.n == 1 && is_listener_on(m.fd[0], r.ports[0]), "abstract: the socket arrives", r.err);
		drop(&m);
	}
	close(rx);

	/* off unless asked for */
	rx = dgram_rx(path, 0);
	{
		char *env[] = { preload, ns, NULL };

		run_server(self, env, 1, &r);
		drain(rx, &m);
		check(answered(&r, 1), "off: the server answers", r.err);
		check(m.n == 0, "off: without SDADOPT_FDSTORE nothing is sent", NULL);
		check(r.errlen == 0, "off: the shim says nothing", r.err);
		drop(&m);
	}
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=maybe", ns, NULL };

		run_server(self, env, 2, &r);
		drain(rx, &m);
		check(answered(&r, 2), "bad value: the server answers", r.err);
		check(m.n == 0, "bad value: nothing is sent", NULL);
		check(lines_with(&r, "sdadopt: warning: SDADOPT_FDSTORE=maybe is not a boolean") == 1 &&
		      lines_with(&r, "sdadopt:") == 1, "bad value: one line", r.err);
		drop(&m);
	}

	/* a full store ($FDSTORE, as systemd >= 254 sets it): the first fits */
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=1", ns, "FDSTORE=1", NULL };

		run_server(self, env, 2, &r);
		drain(rx, &m);
		check(answered(&r, 2), "full: the server answers on both sockets", r.err);
		check(m.n == 1, "full: one socket sent", NULL);
		check(lines_with(&r, "sdadopt: warning: fd store: full (FDSTORE=1)") == 1 &&
		      lines_with(&r, "sdadopt: info: handed fd") == 1 && lines_with(&r, "sdadopt:") == 2,
		      "full: one line for the socket that does not fit", r.err);
		drop(&m);
	}

	/* a NOTIFY_SOCKET whose queue stays full: one bounded wait, then one line */
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=1", ns, NULL };
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int tx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), k = 0;

		strcpy(a.sun_path, path);
		if (tx < 0 || connect(tx, (struct sockaddr *)&a, sizeof(a)) < 0)
			return 99;
		while (send(tx, "x", 1, 0) == 1 && k < 100000)
			k++;
		run_server(self, env, 1, &r);
		check(answered(&r, 1), "queue full: the server answers", r.err);
		check(lines_with(&r, "sdadopt: warning: fd store: NOTIFY_SOCKET=") == 1 &&
		      lines_with(&r, "sendmsg: EAGAIN") == 1 && lines_with(&r, "sdadopt:") == 1,
		      "queue full: one line, the message refused", r.err);
		close(tx);
	}
	close(rx);
	unlink(path);

	/* bad or absent NOTIFY_SOCKET: one line, and the server runs */
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=1", NULL };

		run_server(self, env, 2, &r);
		check(answered(&r, 2), "unset: the server answers", r.err);
		check(lines_with(&r, "sdadopt: warning: SDADOPT_FDSTORE=1 but NOTIFY_SOCKET is unset") == 1 &&
		      lines_with(&r, "sdadopt:") == 1, "unset: one line for two sockets", r.err);
	}
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=1", "NOTIFY_SOCKET=notify.sock", NULL };

		run_server(self, env, 2, &r);
		check(answered(&r, 2), "relative: the server answers", r.err);
		check(lines_with(&r, "NOTIFY_SOCKET=notify.sock is not an absolute path") == 1 &&
		      lines_with(&r, "sdadopt:") == 1, "relative: one line", r.err);
	}
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=1", ns, NULL };  /* unlinked above */

		run_server(self, env, 2, &r);
		check(answered(&r, 2), "missing: the server answers", r.err);
		check(lines_with(&r, "sdadopt: warning: fd store: cannot reach NOTIFY_SOCKET=") == 1 &&
		      lines_with(&r, "connect: ENOENT") == 1 && lines_with(&r, "sdadopt:") == 1,
		      "missing: one line for two sockets", r.err);
	}
	{
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		char sns[160];
		int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		strcpy(a.sun_path, stream);
		if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4) < 0)
			return 99;
		snprintf(sns, sizeof(sns), "NOTIFY_SOCKET=%s", stream);
		char *env[] = { preload, "SDADOPT_FDSTORE=1", sns, NULL };

		run_server(self, env, 1, &r);
		check(answered(&r, 1), "stream socket: the server answers", r.err);
		check(lines_with(&r, "cannot reach NOTIFY_SOCKET=") == 1 && lines_with(&r, "sdadopt:") == 1,
		      "stream socket: one line", r.err);
		close(ls);
		unlink(stream);
	}
	{
		char longns[200] = "NOTIFY_SOCKET=/";

		memset(longns + 15, 'x', 150);
		longns[165] = '\0';
		char *env[] = { preload, "SDADOPT_FDSTORE=1", longns, NULL };

		run_server(self, env, 1, &r);
		check(answered(&r, 1), "too long: the server answers", r.err);
		check(lines_with(&r, "is not an absolute path or an @abstract name") == 1 &&
		      lines_with(&r, "sdadopt:") == 1, "too long: one line", r.err);
	}
	{
		char *env[] = { preload, "SDADOPT_FDSTORE=1", "NOTIFY_SOCKET=", NULL };

		run_server(self, env, 1, &r);
		check(answered(&r, 1), "empty: the server answers", r.err);
		check(lines_with(&r, "NOTIFY_SOCKET is unset") == 1 && lines_with(&r, "sdadopt:") == 1,
		      "empty: one line", r.err);
	}
	rmdir(dir);
	printf("1..%d\n# %d of %d failed\n", n_test, fails, n_test);
	return fails ? 1 : 0;
}
