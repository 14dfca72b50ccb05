/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SDA_PRELOAD_FIRST
#define SDA_PRELOAD_FIRST ""
#endif

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int left_ms(long deadline)
{
	long left = deadline - now_ms();
	return left > 0 ? (int)left : 0;
}

const char *fmt(const char *f, ...)
{
	static char bufs[32][512];
	static unsigned next;
	char *b = bufs[next++ % 32];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof bufs[0], f, ap);
	va_end(ap);
	return b;
}

/* ---- processes ---------------------------------------------------------- */

void run_prepare(struct run *r)
{
	int p[3][2];

	memset(r, 0, sizeof *r);
	r->pid = -1;
	r->status = -1;
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pipe2(p[i], O_CLOEXEC), 0, "pipe2: %s", strerror(errno));
	r->in_w = p[0][0];
	r->in = p[0][1];
	r->out = p[1][0];
	r->out_w = p[1][1];
	r->err = p[2][0];
	r->err_w = p[2][1];
	/* A server that exits early must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
}

void run_exec(struct run *r, int shim, const char *const *argv)
{
	const char *args[256];
	int n = 0;

	args[n++] = ACTIVATE;
	if (shim) {
		args[n++] = "--shim";
		args[n++] = SHIM;
	} else {
		args[n++] = "--no-preload";
	}
	if (SDA_PRELOAD_FIRST[0]) {
		args[n++] = "--preload-first";
		args[n++] = SDA_PRELOAD_FIRST;
	}
	for (; *argv && n < 255; argv++)
		args[n++] = *argv;
	args[n] = NULL;

	r->pid = fork();
	cr_assert_geq(r->pid, 0, "fork: %s", strerror(errno));
	if (r->pid == 0) {
		if (dup2(r->in_w, 0) < 0 || dup2(r->out_w, 1) < 0 || dup2(r->err_w, 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	close(r->in_w);
	close(r->out_w);
	close(r->err_w);
	r->in_w = r->out_w = r->err_w = -1;
}

void run_startl(struct run *r, int shim, ...)
{
	const char *argv[256];
	va_list ap;
	int n = 0;

	va_start(ap, shim);
	while (n < 255 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	run_prepare(r);
	run_exec(r, shim, argv);
}

void args_addl(struct args *a, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, a);
	while ((s = va_arg(ap, const char *))) {
		cr_assert_lt(a->n, 255, "too many arguments");
		a->v[a->n++] = s;
	}
	va_end(ap);
	a->v[a->n] = NULL;
}

void run_start_args(struct run *r, int shim, struct args *a)
{
	a->v[a->n] = NULL;
	run_prepare(r);
	run_exec(r, shim, a->v);
}

/* Read what is available on stdout/stderr, waiting at most timeout_ms.
 * Returns -1 when both pipes hit EOF, else 1 when it read something (or a
 * pipe closed), 0 when nothing came. */
static int pump(struct run *r, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = r->out, .events = POLLIN }, { .fd = r->err, .events = POLLIN } };

	if (r->out < 0 && r->err < 0)
		return -1;
	if (poll(p, 2, timeout_ms) <= 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		int *fd = i ? &r->err : &r->out;
		char *buf = i ? r->e : r->o;
		size_t *len = i ? &r->elen : &r->olen;
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(*fd, buf + *len, RUN_BUF - 1 - *len);
		if (n > 0) {
			*len += (size_t)n;
			buf[*len] = 0;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN) || *len == RUN_BUF - 1) {
			close(*fd);
			*fd = -1;
		}
	}
	return 1;
}

const char *run_wait(struct run *r, const char *word, int nth)
{
	long deadline = now_ms() + DEADLINE_MS;
	const char *l;

	while (!(l = line_find(r->o, word, nth))) {
		if (r->out < 0 || left_ms(deadline) == 0)
			return NULL;
		if (pump(r, left_ms(deadline)) > 0)
			deadline = now_ms() + DEADLINE_MS;   /* it is still talking */
	}
	return l;
}

int run_finish(struct run *r)
{
	long deadline = now_ms() + DEADLINE_MS;
	int status;

	if (r->in >= 0) {
		close(r->in);
		r->in = -1;
	}
	/* read to EOF while the run makes progress (output, a pipe closing) */
	for (int p; (p = pump(r, left_ms(deadline))) >= 0;) {
		if (p > 0)
			deadline = now_ms() + DEADLINE_MS;
		else if (left_ms(deadline) == 0)
			break;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		poll(&p, 1, left_ms(deadline));
		close(pidfd);
	}
	if (waitpid(r->pid, &status, WNOHANG) != r->pid) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &status, 0);
		cr_log_error("activator did not finish in time; killed");
		r->status = -1;
	} else {
		r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	if (r->out >= 0)
		close(r->out);
	if (r->err >= 0)
		close(r->err);
	r->out = r->err = -1;
	if (r->status != 0)
		run_dump(r);
	return r->status;
}

void run_dump(const struct run *r)
{
	cr_log_error("---- stdout (%zu bytes)\n%s", r->olen, r->o);
	cr_log_error("---- stderr (%zu bytes)\n%s", r->elen, r->e);
}

/* ---- reports ------------------------------------------------------------ */

/* Calls fn on each complete line; stops when fn returns nonzero. */
static const char *each_line(const char *buf, int (*fn)(const char *line, size_t len, const void *arg),
			     const void *arg, int nth)
{
	for (const char *l = buf; l && *l;) {
		const char *nl = strchr(l, '\n');
		if (!nl)
			return NULL; /* incomplete last line */
		if (fn(l, (size_t)(nl - l), arg) && nth-- == 0)
			return l;
		l = nl + 1;
	}
	return NULL;
}

static int first_word_is(const char *l, size_t len, const void *word)
{
	size_t wl = strlen(word);
	return len >= wl && !strncmp(l, word, wl) && (len == wl || l[wl] == ' ');
}

static int contains(const char *l, size_t len, const void *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++)
		if (!memcmp(l + i, needle, nl))
			return 1;
	return 0;
}

const char *line_find(const char *buf, const char *word, int nth)
{
	return each_line(buf, first_word_is, word, nth);
}

const char *line_find_sub(const char *buf, const char *needle, int nth)
{
	return each_line(buf, contains, needle, nth);
}

int line_count(const char *buf, const char *word)
{
	int n = 0;
	while (line_find(buf, word, n))
		n++;
	return n;
}

int line_count_sub(const char *buf, const char *needle)
{
	int n = 0;
	while (line_find_sub(buf, needle, n))
		n++;
	return n;
}

const char *kv_str(const char *line, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *end = line ? strchr(line, '\n') : NULL;

	if (!line || !end)
		return NULL;
	for (const char *p = line; p < end; p++) {
		if ((p == line || p[-1] == ' ') && (size_t)(end - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t n = strcspn(v, " \n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return out;
		}
	}
	return NULL;
}

long long kv_num(const char *line, const char *key)
{
	char v[64], *end;

	if (!kv_str(line, key, v, sizeof v))
		return -1;
	long long n = strtoll(v, &end, 10);
	return end != v && *end == 0 ? n : -1;
}

long long act_value(const struct run *r, int i, const char *key)
{
	return kv_num(line_find(r->o, "socket", i), key);
}

int bound_inodes(const struct run *r, long long *ino, int cap)
{
	int n = 0;
	for (const char *l; n < cap && (l = line_find(r->o, "bound", n)); n++)
		ino[n] = kv_num(l, "ino");
	return n;
}

/* ---- clients ------------------------------------------------------------ */

static int wait_fd(int fd, short events, long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, left_ms(deadline));
	return n == 1 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

int client_echo(const char *text, const char *msg, char *reply, size_t cap)
{
	return client_echo_port(text, msg, reply, cap, NULL);
}

int client_echo_port(const char *text, const char *msg, char *reply, size_t cap, unsigned *port)
{
	long deadline = now_ms() + DEADLINE_MS;
	struct spec sp;
	int fd, r = 0, err = 0;
	socklen_t elen = sizeof err;

	if (spec_parse(text, &sp) < 0)
		return -EINVAL;
	fd = socket(sp.family, sp.type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (sp.type == SOCK_DGRAM) {
		/* Unix datagram clients need a name to be answered: autobind. */
		sa_family_t af = AF_UNIX;
		if (sp.family == AF_UNIX && bind(fd, (struct sockaddr *)&af, sizeof af) < 0)
			r = -errno;
		else if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sp.ss, sp.len) < 0)
			r = -errno;
	} else {
		if (connect(fd, (struct sockaddr *)&sp.ss, sp.len) < 0 && errno != EINPROGRESS)
			r = -errno;
		else if ((r = wait_fd(fd, POLLOUT, deadline)) == 0 &&
			 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err)
			r = -err;
		else if (r == 0 && send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
			r = -errno;
	}
	if (r == 0 && port) {
		struct sockaddr_storage me;
		socklen_t mlen = sizeof me;
		*port = getsockname(fd, (struct sockaddr *)&me, &mlen) == 0 ? addr_port((struct sockaddr *)&me) : 0;
	}
	if (r == 0 && (r = wait_fd(fd, POLLIN, deadline)) == 0) {
		ssize_t n = recv(fd, reply, cap - 1, 0);
		if (n < 0)
			r = -errno;
		else
			reply[n] = 0;
	}
	close(fd);
	return r;
}

int connect_many(const char *text, int n, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct pollfd p[256];
	struct spec sp;
	int done = 0;

	cr_assert(n <= 256);
	cr_assert_eq(spec_parse(text, &sp), 0);
	for (int i = 0; i < n; i++) {
		p[i].fd = socket(sp.family, sp.type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		p[i].events = POLLOUT;
		cr_assert_geq(p[i].fd, 0);
		if (connect(p[i].fd, (struct sockaddr *)&sp.ss, sp.len) == 0) {
			done++;
			p[i].fd = -p[i].fd - 1; /* poll ignores negative fds */
		}
	}
	while (done < n && left_ms(deadline) > 0) {
		if (poll(p, (nfds_t)n, left_ms(deadline)) <= 0)
			break;
		for (int i = 0; i < n; i++) {
			int err = 0;
			socklen_t elen = sizeof err;
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &elen);
			if (!err)
				done++;
			p[i].fd = -p[i].fd - 1;
		}
	}
	for (int i = 0; i < n; i++)
		close(p[i].fd < 0 ? -p[i].fd - 1 : p[i].fd);
	return done;
}

unsigned free_port(int family)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0, "bind: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	close(fd);
	return addr_port((struct sockaddr *)&ss);
}

static char tmpdirs[16][64];
static int ntmpdirs;

/* At exit: remove the files the tests left in their directories. */
static void remove_tmpdirs(void)
{
	for (int i = 0; i < ntmpdirs; i++) {
		DIR *d = opendir(tmpdirs[i]);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		if (d)
			closedir(d);
		rmdir(tmpdirs[i]);
	}
}

void tmpdir(char *out, size_t cap)
{
	cr_assert_lt(ntmpdirs, 16);
	snprintf(out, cap, "/tmp/sdadopt-test.XXXXXX");
	cr_assert_not_null(mkdtemp(out), "mkdtemp: %s", strerror(errno));
	snprintf(tmpdirs[ntmpdirs], sizeof tmpdirs[0], "%s", out);
	if (ntmpdirs++ == 0)
		atexit(remove_tmpdirs);
}

long tcp_listen_backlog(int family, unsigned port)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = (__u8)family, .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = 1u << TCP_LISTEN },
	};
	long deadline = now_ms() + DEADLINE_MS, result = -ENOENT;
	static char buf[65536];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -errno;
	if (send(fd, &msg, sizeof msg, 0) < 0) {
		result = -errno;
		goto out;
	}
	for (;;) {
		if (wait_fd(fd, POLLIN, deadline) < 0) {
			result = -ETIMEDOUT;
			goto out;
		}
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0) {
			result = n < 0 ? -errno : -EIO;
			goto out;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				result = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			if (ntohs(m->id.idiag_sport) == port)
				result = (long)m->idiag_wqueue;
		}
	}
out:
	close(fd);
	return result;
}

/* ---- shared assertions -------------------------------------------------- */

void expect_adopted(const struct run *r, int nth_bound, int sock)
{
	long long want = act_value(r, sock, "ino");
	const char *l = line_find(r->o, "bound", nth_bound);

	if (want <= 0 || !l || kv_num(l, "ino") != want)
		run_dump(r);
	cr_assert_gt(want, 0, "the activator reported no socket %d", sock);
	cr_assert_not_null(l, "the server reported no bind #%d", nth_bound);
	cr_assert_eq(kv_num(l, "ino"), want, "bind #%d: server fd has inode %lld, activated socket %d has %lld",
		     nth_bound, kv_num(l, "ino"), sock, want);
}

void expect_not_adopted(const struct run *r, int sock)
{
	long long want = act_value(r, sock, "ino");
	long long ino[64];
	int n = bound_inodes(r, ino, 64);

	cr_assert_gt(want, 0, "the activator reported no socket %d", sock);
	for (int i = 0; i < n; i++) {
		if (ino[i] == want)
			run_dump(r);
		cr_assert_neq(ino[i], want, "bind #%d adopted socket %d (inode %lld) but should not", i, sock, want);
	}
}

void expect_loaded(const struct run *r)
{
	cr_assert_not_null(line_find_sub(r->o, "loaded sdadopt=1", 0), "the shim was not loaded: %s", r->o);
}

unsigned expect_echo(const char *spec, const char *msg)
{
	char reply[256] = "", want[256];
	unsigned port = 0;
	int r = client_echo_port(spec, msg, reply, sizeof reply, &port);

	snprintf(want, sizeof want, "echo:%s", msg);
	cr_assert_eq(r, 0, "client via %s: %s", spec, strerror(-r));
	cr_assert_str_eq(reply, want, "client via %s", spec);
	return port;
}
