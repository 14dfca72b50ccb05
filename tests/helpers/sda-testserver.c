/* SPDX-License-Identifier: MIT */
/* sda-testserver: a legacy-style server whose behaviour is a list of steps.
 *
 * Each step runs in order and reports what it saw as one line on stdout
 * ("WORD key=value ..."), so tests can assert facts instead of timing.
 * Waits are bounded (poll with STEP_TIMEOUT_MS).
 *
 *   nonblock | cloexec | reuseport    flags for the next `bind`'s socket
 *   bind SPEC        socket()+bind(); the socket becomes the current fd.
 *                    Socket options on the SPEC (",nodelay=1,rcvbuf=N", see
 *                    spec.h) are set before bind(), each read back:
 *                    -> setopt name=NAME value=V got=G (each)
 *                    -> bound fd=N ino=I | bind-error err=ENAME
 *   use K            the K-th socket bound so far (0-based) becomes current
 *                    -> using fd=N ino=I
 *   getopt NAME      getsockopt() on the current fd -> opt fd=N name=NAME value=V
 *                    | opt-error fd=N name=NAME err=ENAME
 *   setopt NAME V    setsockopt() of an int on the current fd (after bind)
 *                    -> optset fd=N name=NAME value=V rc=R err=ENAME|none
 *   listen N         -> listened fd=N | listen-error fd=N err=ENAME
 *   flags            -> flags fd=N cloexec=0|1 nonblock=0|1
 *   name             -> sockname fd=N family=F addr=A
 *   serve            accept one connection (or receive one datagram) on the
 *                    current fd and answer "echo:DATA"
 *                    -> served fd=N family=F peer=A | serve-error what=W err=E
 * The address calls, one step each, report what the call wrote into a buffer
 * of `addrlen` bytes (default: a sockaddr_storage):
 *                    -> addr call=C fd=N len=L buflen=B family=F addr=A
 *                       bytes=HEX intact=0|1 | addr-error call=C err=E
 *                    L: the length the call returned; A: the address, or
 *                    "truncated" when L > B; HEX: the min(L, B) bytes at the
 *                    start of the buffer; intact: nothing written past B.
 *   addrlen N        buffer length for the address calls that follow
 *   accept | accept4 take one connection on the current fd (the peer's
 *                    address); the connection is the current fd until `reply`
 *   reply            read one message on that connection, answer "echo:DATA"
 *                    and close it; the listener is current again
 *                    -> replied fd=N | reply-error err=E
 *   getsockname | getpeername    of the current fd
 *   recvfrom | recvmsg   receive one datagram on the current fd (the
 *                    sender's address) and answer "echo:DATA" to the sender
 *   ctllen N         control buffer bytes for recvmsg-pktinfo (default 256)
 *   recvmsg-pktinfo  receive one datagram with a control buffer, report its
 *                    packet-info message, and answer with sendmsg() from
 *                    that address (IPV6_PKTINFO or IP_PKTINFO, as received)
 *                    -> pktinfo fd=N ctllen=L trunc=0|1 level=ip|ipv6|none
 *                       type=pktinfo|other|none cmsglen=C dst=A ifindex=I
 *                       sender=S; then sent rc=R err=E
 *   connect-reply    receive one datagram (recvfrom), connect() to the
 *                    sender, answer with send() and disconnect (AF_UNSPEC;
 *                    a socket bound to port 0 loses its port with it)
 *                    -> connected rc=R err=E peer=A
 *   close            -> closed fd=N rc=R
 *   daemon METHOD    double fork; the grandchild closes every fd >= 3 with
 *                    METHOD (loop, close_range, closefrom) and goes on
 *                    -> daemon pid=P method=M
 *   dup2 N | dup3 N  dup2(an fd of /dev/null, N), or dup3(.., O_CLOEXEC)
 *                    -> dup2 fd=N rc=R err=E chr=0|1 (chr: N is /dev/null now)
 *   fill N           open /dev/null until every number below N is taken, so
 *                    that the next socket() gets N or more (at most N opens)
 *                    -> filled upto=N opened=K
 *   unlink PATH | unlinkat PATH | remove PATH
 *                    -> unlinked path=P rc=R err=E
 *   env              -> env VAR=VALUE per LISTEN_* variable; env-end count=K
 *   fds              -> fd n=N ino=I cloexec=C per open fd >= 3; fds-end
 *   exec-fds         run a fresh exec of this program that reports its open
 *                    fds >= 3 -> child-fd n=N ino=I ...; child-fds-end
 *   threads N SPEC.. N threads bind one SPEC each, all at once
 *                    -> bound fd=N ino=I thread=T (each); threads-end ok=K
 *   wait             -> waiting; then block until a line or EOF on stdin
 *   exec STEP...     exec this program in place (same pid) with the
 *                    remaining steps -> exec pid=P (then the new image's lines)
 *   pid              -> pid pid=P
 *   chdir DIR        -> chdir rc=R
 *   loaded           is libsdadopt mapped in this process? -> loaded sdadopt=0|1
 *   open-close       open /dev/null, close it, and check the fd is gone
 *                    -> openclose fd=N still_open=0|1
 *   sweep N          varnish's child: close every fd 3..N, put /dev/null on
 *                    each number that was open, then check that the next
 *                    ten close() fail with EBADF
 *                    -> sweep upto=N nulled=K ebadf=E (E of 10 failed so)
 *   workers N        prefork: N worker processes each run all the remaining
 *                    steps (their lines end in " worker=K"); the parent
 *                    waits for them -> workers-end n=N ok=K (exited 0)
 * At the end: done. */
#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* a step waiting for one event (a client, data) gives up after this long
 * without it: generous, so that a slow machine never reaches it */
#define STEP_TIMEOUT_MS 60000
#define MAX_THREADS 64
#define MAX_BOUND 64
#define MAX_WORKERS 16

extern char **environ;

static int cur = -1;            /* the current socket */
static int listener = -1;       /* while an accepted connection is current */
static int next_flags;          /* SOCK_NONBLOCK / SOCK_CLOEXEC for the next bind */
static int next_reuseport;
static int bound[MAX_BOUND];    /* the sockets `bind` bound, for `use` */
static int nbound;
static socklen_t addr_buflen = sizeof(struct sockaddr_storage);
static size_t ctl_buflen = 256;
static int worker = -1;         /* K in a worker of `workers` */

/* One line, one write(2): lines from threads and processes never mix. */
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (worker >= 0 && (size_t)n < sizeof line - 2)
		n += snprintf(line + n, sizeof line - 1 - (size_t)n, " worker=%d", worker);
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, (size_t)n) < 0)
		_exit(3);
}

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

static unsigned long long inode_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

static void usage_error(const char *what)
{
	fprintf(stderr, "sda-testserver: %s\n", what);
	exit(2);
}

/* The spec's socket options on fd, each read back as a setopt line. */
static int set_opts(int fd, const struct spec *sp)
{
	const struct spec_sockopt *failed = NULL;
	int e = spec_set_opts(fd, sp, &failed);

	if (e < 0) {
		say("setopt-error name=%s err=%s", failed->name, ename(-e));
		return e;
	}
	for (int i = 0; i < sp->nopts; i++) {
		const struct spec_sockopt *o = sp->opt[i].o;
		int got = -1;
		socklen_t l = sizeof got;

		if (getsockopt(fd, o->level, o->opt, &got, &l) < 0)
			return -errno;
		say("setopt name=%s value=%d got=%d", o->name, sp->opt[i].value, got);
	}
	return 0;
}

static int bind_errno;   /* errno after the last successful bind() */

/* socket() + bind() of spec; returns the fd or -errno. */
static int bind_spec(const char *text, int flags, int reuseport)
{
	struct spec sp;
	int one = 1, e;

	if (spec_parse(text, &sp) < 0)
		usage_error("bad spec");
	int fd = socket(sp.family, sp.type | flags, 0);
	if (fd < 0)
		return -errno;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
		e = -errno;
	else if ((e = set_opts(fd, &sp)) == 0) {
		errno = ENOTTY;                 /* a successful bind leaves errno alone */
		if (bind(fd, (struct sockaddr *)&sp.ss, sp.len) < 0)
			e = -errno;
		else
			bind_errno = errno;
	}
	if (e < 0) {
		close(fd);
		return e;
	}
	return fd;
}

static void step_bind(const char *text)
{
	int fd = bind_spec(text, next_flags, next_reuseport);

	next_flags = next_reuseport = 0;
	if (fd < 0) {
		say("bind-error err=%s", ename(-fd));
		cur = -1;
		return;
	}
	cur = fd;
	if (nbound < MAX_BOUND)
		bound[nbound++] = fd;
	say("bound fd=%d ino=%llu errno=%s", fd, inode_of(fd), bind_errno ? ename(bind_errno) : "0");
}

/* Read one message on connection c and answer "echo:DATA".  Returns what
 * write() returned, or -1 with errno (0: EOF). */
static ssize_t echo_conn(int c)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	char buf[512], reply[600];
	ssize_t n = poll(&p, 1, STEP_TIMEOUT_MS) == 1 ? read(c, buf, sizeof buf - 1) : -1;

	if (n > 0) {
		int m = snprintf(reply, sizeof reply, "echo:%.*s", (int)n, buf);
		n = write(c, reply, (size_t)m);
	}
	return n;
}

/* Answer the n bytes of a datagram with "echo:DATA" to `to`. */
static ssize_t echo_to(int fd, const char *buf, ssize_t n, const struct sockaddr *to, socklen_t len)
{
	char reply[600];
	int m = snprintf(reply, sizeof reply, "echo:%.*s", (int)n, buf);

	return sendto(fd, reply, (size_t)m, 0, to, len);
}

static void step_serve(void)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;
	struct pollfd p = { .fd = cur, .events = POLLIN };
	char buf[512], text[256];
	int type;
	socklen_t tlen = sizeof type;
	ssize_t n;

	if (getsockopt(cur, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0) {
		say("serve-error what=so_type err=%s", ename(errno));
		return;
	}
	if (poll(&p, 1, STEP_TIMEOUT_MS) != 1) {
		say("serve-error what=timeout err=none");
		return;
	}
	if (type == SOCK_DGRAM) {
		n = recvfrom(cur, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
		if (n < 0) {
			say("serve-error what=recvfrom err=%s", ename(errno));
			return;
		}
		if (echo_to(cur, buf, n, (struct sockaddr *)&peer, plen) < 0) {
			say("serve-error what=sendto err=%s", ename(errno));
			return;
		}
	} else {
		int c = accept4(cur, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (c < 0) {
			say("serve-error what=accept err=%s", ename(errno));
			return;
		}
		n = echo_conn(c);
		close(c);
		if (n <= 0) {
			say("serve-error what=read-write err=%s", n < 0 ? ename(errno) : "eof");
			return;
		}
	}
	say("served fd=%d family=%s peer=%s", cur, family_name(peer.ss_family),
	    addr_text((struct sockaddr *)&peer, plen, text, sizeof text));
}

/* ---- the address calls ------------------------------------------------- */

/* A buffer for one address: addr_buflen bytes are offered to the call, the
 * rest (filled like the whole buffer with 0xA5) shows any overrun. */
struct abuf {
	union {
		struct sockaddr sa;
		struct sockaddr_storage ss;
		unsigned char b[sizeof(struct sockaddr_storage) + 64];
	};
	socklen_t len;
};

static struct sockaddr *abuf_reset(struct abuf *a)
{
	memset(a->b, 0xA5, sizeof a->b);
	a->len = addr_buflen;
	return &a->sa;
}

static void say_addr(const char *call, int fd, const struct abuf *a)
{
	size_t n = a->len < addr_buflen ? a->len : addr_buflen;
	char hex[2 * sizeof a->b + 1] = "", text[256] = "truncated";
	sa_family_t fam = 0;
	int intact = 1;

	for (size_t k = 0; k < n; k++)
		snprintf(hex + 2 * k, 3, "%02x", a->b[k]);
	for (size_t k = addr_buflen; k < sizeof a->b; k++)
		intact &= a->b[k] == 0xA5;
	if (n >= sizeof fam)
		memcpy(&fam, a->b, sizeof fam);
	if (a->len <= addr_buflen)
		addr_text(&a->sa, a->len, text, sizeof text);
	say("addr call=%s fd=%d len=%u buflen=%u family=%s addr=%s bytes=%s intact=%d", call, fd,
	    (unsigned)a->len, (unsigned)addr_buflen, n >= sizeof fam ? family_name(fam) : "none", text,
	    hex, intact);
}

static int wait_readable(const char *call)
{
	struct pollfd p = { .fd = cur, .events = POLLIN };

	if (poll(&p, 1, STEP_TIMEOUT_MS) == 1)
		return 1;
	say("addr-error call=%s err=timeout", call);
	return 0;
}

static void step_accept(const char *call)
{
	struct abuf a;
	int c;

	if (listener >= 0)
		usage_error("accept: `reply` to the current connection first");
	if (!wait_readable(call))
		return;
	if (!strcmp(call, "accept4"))
		c = accept4(cur, abuf_reset(&a), &a.len, SOCK_CLOEXEC);
	else
		c = accept(cur, abuf_reset(&a), &a.len);
	if (c < 0) {
		say("addr-error call=%s err=%s", call, ename(errno));
		return;
	}
	say_addr(call, cur, &a);
	listener = cur;
	cur = c;
}

static void step_reply(void)
{
	int c = cur;
	ssize_t n;

	if (listener < 0) {
		say("skip step=reply");        /* `accept` failed */
		return;
	}
	n = echo_conn(c);
	close(c);
	cur = listener;
	listener = -1;
	if (n <= 0)
		say("reply-error err=%s", n < 0 ? ename(errno) : "eof");
	else
		say("replied fd=%d", c);
}

static void step_name(const char *call)
{
	struct abuf a;
	int r;

	if (!strcmp(call, "getpeername"))
		r = getpeername(cur, abuf_reset(&a), &a.len);
	else
		r = getsockname(cur, abuf_reset(&a), &a.len);
	if (r < 0)
		say("addr-error call=%s err=%s", call, ename(errno));
	else
		say_addr(call, cur, &a);
}

static void step_recv(const char *call)
{
	struct sockaddr_storage to = { 0 };
	char buf[512];
	struct abuf a;
	ssize_t n;

	if (!wait_readable(call))
		return;
	if (!strcmp(call, "recvmsg")) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
		struct msghdr m = { .msg_name = abuf_reset(&a), .msg_namelen = addr_buflen,
				    .msg_iov = &iov, .msg_iovlen = 1 };
		n = recvmsg(cur, &m, MSG_DONTWAIT);
		a.len = m.msg_namelen;
	} else {
		n = recvfrom(cur, buf, sizeof buf - 1, MSG_DONTWAIT, abuf_reset(&a), &a.len);
	}
	if (n < 0) {
		say("addr-error call=%s err=%s", call, ename(errno));
		return;
	}
	say_addr(call, cur, &a);
	/* The sender is what the call wrote (an IPv4 address fits in 8 bytes). */
	memcpy(&to, a.b, a.len < addr_buflen ? a.len : addr_buflen);
	if (echo_to(cur, buf, n, (struct sockaddr *)&to, a.len < sizeof to ? a.len : sizeof to) < 0)
		say("reply-error err=%s", ename(errno));
}

/* recvmsg() with a control buffer of ctl_buflen bytes; the reply goes out
 * with sendmsg() from the destination the packet-info message named. */
static void step_recv_pktinfo(void)
{
	union {
		struct cmsghdr align;
		unsigned char b[1024];
	} ctl;
	struct sockaddr_storage from;
	char buf[512], reply[600], dst[128] = "none", sender[128];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = ctl_buflen };
	const char *level = "none", *type = "none";
	int ifindex = -1;
	size_t cmsglen = 0;
	ssize_t n;

	if (ctl_buflen > sizeof ctl.b)
		usage_error("ctllen: at most 1024");
	memset(ctl.b, 0xA5, sizeof ctl.b);
	if (!wait_readable("recvmsg-pktinfo"))
		return;
	n = recvmsg(cur, &m, MSG_DONTWAIT);
	if (n < 0) {
		say("addr-error call=recvmsg-pktinfo err=%s", ename(errno));
		return;
	}
	struct cmsghdr *c = m.msg_controllen >= sizeof(struct cmsghdr) ? CMSG_FIRSTHDR(&m) : NULL;
	if (c) {
		cmsglen = c->cmsg_len;
		level = c->cmsg_level == IPPROTO_IPV6 ? "ipv6" : c->cmsg_level == IPPROTO_IP ? "ip" : "other";
		type = (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) ||
				       (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) ?
			       "pktinfo" : "other";
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			a.sin6_addr = pi.ipi6_addr;
			ifindex = (int)pi.ipi6_ifindex;
			addr_text((struct sockaddr *)&a, sizeof a, dst, sizeof dst);
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			struct sockaddr_in a = { .sin_family = AF_INET };
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			a.sin_addr = pi.ipi_addr;
			ifindex = pi.ipi_ifindex;
			addr_text((struct sockaddr *)&a, sizeof a, dst, sizeof dst);
		}
	}
	int intact = 1;
	for (size_t k = ctl_buflen; k < sizeof ctl.b; k++)
		intact &= ctl.b[k] == 0xA5;
	say("pktinfo fd=%d ctllen=%zu trunc=%d level=%s type=%s cmsglen=%zu dst=%s ifindex=%d sender=%s "
	    "intact=%d", cur, (size_t)m.msg_controllen, !!(m.msg_flags & MSG_CTRUNC), level, type, cmsglen,
	    dst, ifindex, addr_text((struct sockaddr *)&from, m.msg_namelen, sender, sizeof sender), intact);

	/* the answer, from the address the packet was sent to */
	int len = snprintf(reply, sizeof reply, "echo:%.*s", (int)n, buf);
	struct iovec riov = { .iov_base = reply, .iov_len = (size_t)len };
	struct msghdr rm = { .msg_name = &from, .msg_namelen = m.msg_namelen, .msg_iov = &riov,
			     .msg_iovlen = 1 };
	union {
		struct cmsghdr align;
		unsigned char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} rctl;
	if (c && !strcmp(type, "pktinfo") && ifindex >= 0) {
		memset(&rctl, 0, sizeof rctl);
		rm.msg_control = rctl.b;
		rm.msg_controllen = c->cmsg_len <= CMSG_LEN(sizeof(struct in_pktinfo)) ?
					    CMSG_SPACE(sizeof(struct in_pktinfo)) : CMSG_SPACE(sizeof(struct in6_pktinfo));
		struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
		memcpy(rc, c, CMSG_LEN(0));
		memcpy(CMSG_DATA(rc), CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
		if (c->cmsg_level == IPPROTO_IP) {
			/* IP_PKTINFO: the source is ipi_spec_dst */
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			pi.ipi_spec_dst = pi.ipi_addr;
			memset(&pi.ipi_addr, 0, sizeof pi.ipi_addr);
			memcpy(CMSG_DATA(rc), &pi, sizeof pi);
		}
	}
	ssize_t r = sendmsg(cur, &rm, 0);
	say("sent rc=%zd err=%s", r, r < 0 ? ename(errno) : "none");
}

static void step_connect_reply(void)
{
	struct sockaddr_storage from, unspec = { .ss_family = AF_UNSPEC };
	socklen_t flen = sizeof from;
	char buf[512], reply[600], text[128];
	ssize_t n;
	int r, e = 0;

	if (!wait_readable("connect-reply"))
		return;
	n = recvfrom(cur, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
	if (n < 0) {
		say("addr-error call=connect-reply err=%s", ename(errno));
		return;
	}
	r = connect(cur, (struct sockaddr *)&from, flen);
	if (r == 0) {
		int m = snprintf(reply, sizeof reply, "echo:%.*s", (int)n, buf);
		if (send(cur, reply, (size_t)m, 0) < 0) {
			r = -1;
			e = errno;
		}
		(void)connect(cur, (struct sockaddr *)&unspec, sizeof unspec);
	} else {
		e = errno;
	}
	say("connected rc=%d err=%s peer=%s", r, r < 0 ? ename(e) : "none",
	    addr_text((struct sockaddr *)&from, flen, text, sizeof text));
}

/* ---- processes ------------------------------------------------------------ */

/* Prefork: returns 0 in each of the n workers, 1 in the parent once they
 * all exited. */
static int step_workers(int n)
{
	pid_t pid[MAX_WORKERS];
	int ok = 0;

	if (n < 1 || n > MAX_WORKERS)
		usage_error("workers N: 1 <= N <= 16");
	for (int k = 0; k < n; k++) {
		if ((pid[k] = fork()) < 0)
			usage_error("fork failed");
		if (pid[k] == 0) {
			worker = k;
			return 0;
		}
	}
	for (int k = 0; k < n; k++) {
		int st;

		while (waitpid(pid[k], &st, 0) < 0)
			if (errno != EINTR)
				usage_error("waitpid failed");
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	say("workers-end n=%d ok=%d", n, ok);
	return 1;
}

static void close_all_from_3(const char *method)
{
	if (!strcmp(method, "loop")) {
		long max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (int fd = 3; fd < max; fd++)
			close(fd);
	} else if (!strcmp(method, "close_range")) {
		if (close_range(3, ~0U, 0) < 0)
			say("close_range-error err=%s", ename(errno));
	} else if (!strcmp(method, "closefrom")) {
		closefrom(3);
	} else {
		usage_error("daemon: method is loop, close_range or closefrom");
	}
}

static void step_daemon(const char *method)
{
	pid_t pid = fork();

	if (pid < 0)
		usage_error("fork failed");
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(3);
	if (pid > 0)
		_exit(0);
	close_all_from_3(method);
	say("daemon pid=%ld method=%s", (long)getpid(), method);
}

static void step_dup(int target, int use_dup3)
{
	struct stat st;
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int r = use_dup3 ? dup3(nul, target, O_CLOEXEC) : dup2(nul, target);
	int e = errno;

	close(nul);
	say("dup2 fd=%d rc=%d err=%s chr=%d", target, r, r < 0 ? ename(e) : "none",
	    fstat(target, &st) == 0 && S_ISCHR(st.st_mode));
}

/* Open fds >= 3 as lines "PREFIX n=N ino=I cloexec=C", from /proc/self/fd. */
static void report_fds(const char *prefix)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[1024], n = 0;
	struct dirent *de;

	if (!d) {
		say("%s-error err=%s", prefix, ename(errno));
		return;
	}
	while ((de = readdir(d)) && n < 1024) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd >= 3 && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		int fl = fcntl(fds[i], F_GETFD);
		say("%s n=%d ino=%llu cloexec=%d", prefix, fds[i], inode_of(fds[i]),
		    fl >= 0 && (fl & FD_CLOEXEC));
	}
}

static void step_exec_fds(void)
{
	pid_t pid = fork();

	if (pid < 0)
		usage_error("fork failed");
	if (pid == 0) {
		execl("/proc/self/exe", "sda-testserver", "child-fds", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

struct thread_arg {
	pthread_barrier_t *barrier;
	const char *spec;
	int index, fd;
};

static void *thread_bind(void *p)
{
	struct thread_arg *a = p;

	pthread_barrier_wait(a->barrier);
	a->fd = bind_spec(a->spec, SOCK_CLOEXEC, 0);
	if (a->fd >= 0)
		say("bound fd=%d ino=%llu thread=%d", a->fd, inode_of(a->fd), a->index);
	else
		say("bind-error err=%s thread=%d", ename(-a->fd), a->index);
	return NULL;
}

static void step_threads(int n, char **specs)
{
	pthread_t tid[MAX_THREADS];
	struct thread_arg args[MAX_THREADS];
	pthread_barrier_t barrier;
	int ok = 0;

	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		args[i] = (struct thread_arg){ .barrier = &barrier, .spec = specs[i], .index = i };
		if (pthread_create(&tid[i], NULL, thread_bind, &args[i]) != 0)
			usage_error("pthread_create failed");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		ok += args[i].fd >= 0;
	}
	pthread_barrier_destroy(&barrier);
	say("threads-end ok=%d", ok);
}

static void step_env(void)
{
	int count = 0;

	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "LISTEN_", 7)) {
			say("env %s", *e);
			count++;
		}
	say("env-end count=%d", count);
}

static void step_wait(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[64];

	say("waiting");
	if (poll(&p, 1, 2 * STEP_TIMEOUT_MS) == 1 && read(STDIN_FILENO, buf, sizeof buf) < 0)
		say("wait-error err=%s", ename(errno));
}

/* Steps that act on the current fd report "skip" when there is none. */
static int need_cur(const char *step)
{
	if (cur < 0)
		say("skip step=%s", step);
	return cur >= 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(s, "nonblock")) {
			next_flags |= SOCK_NONBLOCK;
		} else if (!strcmp(s, "cloexec")) {
			next_flags |= SOCK_CLOEXEC;
		} else if (!strcmp(s, "reuseport")) {
			next_reuseport = 1;
		} else if (!strcmp(s, "bind") && arg) {
			step_bind(arg);
			i++;
		} else if (!strcmp(s, "listen") && arg) {
			i++;
			if (!need_cur(s))
				continue;
			if (listen(cur, atoi(arg)) == 0)
				say("listened fd=%d", cur);
			else
				say("listen-error fd=%d err=%s", cur, ename(errno));
		} else if (!strcmp(s, "flags")) {
			if (!need_cur(s))
				continue;
			say("flags fd=%d cloexec=%d nonblock=%d", cur, !!(fcntl(cur, F_GETFD) & FD_CLOEXEC),
			    !!(fcntl(cur, F_GETFL) & O_NONBLOCK));
		} else if (!strcmp(s, "name")) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof ss;
			char text[256];
			if (!need_cur(s))
				continue;
			if (getsockname(cur, (struct sockaddr *)&ss, &len) < 0)
				say("sockname-error fd=%d err=%s", cur, ename(errno));
			else
				say("sockname fd=%d family=%s addr=%s", cur, family_name(ss.ss_family),
				    addr_text((struct sockaddr *)&ss, len, text, sizeof text));
		} else if (!strcmp(s, "serve")) {
			if (need_cur(s))
				step_serve();
		} else if (!strcmp(s, "close")) {
			if (!need_cur(s))
				continue;
			say("closed fd=%d rc=%d", cur, close(cur));
			cur = -1;
		} else if (!strcmp(s, "daemon") && arg) {
			step_daemon(arg);
			i++;
		} else if ((!strcmp(s, "dup2") || !strcmp(s, "dup3")) && arg) {
			step_dup(atoi(arg), s[3] == '3');
			i++;
		} else if (!strcmp(s, "fill") && arg) {
			int n = atoi(arg), k = 0, fd;

			/* the lowest free number each time: below n, keep it */
			while (k < n && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
				if (fd >= n) {
					close(fd);
					break;
				}
				k++;
			}
			say("filled upto=%d opened=%d", n, k);
			i++;
		} else if ((!strcmp(s, "unlink") || !strcmp(s, "unlinkat") || !strcmp(s, "remove")) && arg) {
			int r = s[0] == 'r' ? remove(arg) : s[6] ? unlinkat(AT_FDCWD, arg, 0) : unlink(arg);
			say("unlinked path=%s rc=%d err=%s", arg, r, r < 0 ? ename(errno) : "none");
			i++;
		} else if (!strcmp(s, "env")) {
			step_env();
		} else if (!strcmp(s, "fds")) {
			report_fds("fd");
			say("fds-end");
		} else if (!strcmp(s, "exec-fds")) {
			step_exec_fds();
		} else if (!strcmp(s, "child-fds")) {
			report_fds("child-fd");
			say("child-fds-end");
			return 0; /* an exec'd reporter, not a server: no "done" */
		} else if (!strcmp(s, "threads") && arg) {
			int n = atoi(arg);
			if (n < 1 || n > MAX_THREADS || i + 1 + n >= argc)
				usage_error("threads N SPEC... (1 <= N <= 64 specs)");
			step_threads(n, argv + i + 2);
			i += 1 + n;
		} else if (!strcmp(s, "wait")) {
			step_wait();
		} else if (!strcmp(s, "exec")) {
			say("exec pid=%ld", (long)getpid());
			argv[i] = "sda-testserver"; /* argv[0] of the new image */
			execv("/proc/self/exe", argv + i);
			say("exec-error err=%s", ename(errno));
			return 1;
		} else if (!strcmp(s, "loaded")) {
			char line[4096];
			int found = 0;
			FILE *maps = fopen("/proc/self/maps", "re");
			while (maps && !found && fgets(line, sizeof line, maps))
				found = strstr(line, "libsdadopt") != NULL;
			if (maps)
				fclose(maps);
			say("loaded sdadopt=%d", found);
		} else if (!strcmp(s, "chdir") && arg) {
			say("chdir rc=%d", chdir(arg));
			i++;
		} else if (!strcmp(s, "sweep") && arg) {
			int upto = atoi(arg), nulled = 0, ebadf = 0;

			i++;
			for (int fd = 3; fd <= upto; fd++) {
				if (fd == 0 || close(fd) != 0)
					continue;
				int null = open("/dev/null", O_RDWR);

				if (null >= 0 && null != fd) {
					dup2(null, fd);
					close(null);
				}
				nulled++;
			}
			for (int fd = upto + 1; fd <= upto + 10; fd++)
				ebadf += close(fd) == -1 && errno == EBADF;
			say("sweep upto=%d nulled=%d ebadf=%d", upto, nulled, ebadf);
		} else if (!strcmp(s, "open-close")) {
			int fd = open("/dev/null", O_RDONLY);
			close(fd);
			say("openclose fd=%d still_open=%d", fd, fcntl(fd, F_GETFD) >= 0);
		} else if (!strcmp(s, "use") && arg) {
			int k = atoi(arg);
			i++;
			if (k < 0 || k >= nbound)
				usage_error("use K: no K-th bound socket");
			cur = bound[k];
			say("using fd=%d ino=%llu", cur, inode_of(cur));
		} else if (!strcmp(s, "getopt") && arg) {
			const struct spec_sockopt *o = spec_sockopt_find(arg);
			int v = -1;
			socklen_t l = sizeof v;
			i++;
			if (!o)
				usage_error("getopt: unknown option name (see spec.h)");
			if (!need_cur(s))
				continue;
			if (getsockopt(cur, o->level, o->opt, &v, &l) < 0)
				say("opt-error fd=%d name=%s err=%s", cur, o->name, ename(errno));
			else
				say("opt fd=%d name=%s value=%d", cur, o->name, v);
		} else if (!strcmp(s, "setopt") && arg && i + 2 < argc) {
			const struct spec_sockopt *o = spec_sockopt_find(arg);
			int v = atoi(argv[i + 2]), r;
			i += 2;
			if (!o)
				usage_error("setopt: unknown option name (see spec.h)");
			if (!need_cur(s))
				continue;
			r = setsockopt(cur, o->level, o->opt, &v, sizeof v);
			say("optset fd=%d name=%s value=%d rc=%d err=%s", cur, o->name, v, r,
			    r < 0 ? ename(errno) : "none");
		} else if (!strcmp(s, "ctllen") && arg) {
			ctl_buflen = (size_t)atol(arg);
			i++;
		} else if (!strcmp(s, "recvmsg-pktinfo")) {
			if (need_cur(s))
				step_recv_pktinfo();
		} else if (!strcmp(s, "connect-reply")) {
			if (need_cur(s))
				step_connect_reply();
		} else if (!strcmp(s, "addrlen") && arg) {
			long n = atol(arg);
			i++;
			if (n < 0 || n > (long)sizeof(struct sockaddr_storage))
				usage_error("addrlen N: 0 <= N <= sizeof(struct sockaddr_storage)");
			addr_buflen = (socklen_t)n;
		} else if (!strcmp(s, "accept") || !strcmp(s, "accept4")) {
			if (need_cur(s))
				step_accept(s);
		} else if (!strcmp(s, "reply")) {
			step_reply();
		} else if (!strcmp(s, "getsockname") || !strcmp(s, "getpeername")) {
			if (need_cur(s))
				step_name(s);
		} else if (!strcmp(s, "recvfrom") || !strcmp(s, "recvmsg")) {
			if (need_cur(s))
				step_recv(s);
		} else if (!strcmp(s, "workers") && arg) {
			i++;
			if (step_workers(atoi(arg)))
				break; /* the workers ran the remaining steps */
		} else if (!strcmp(s, "pid")) {
			say("pid pid=%ld", (long)getpid());
		} else {
			fprintf(stderr, "sda-testserver: unknown step or missing argument: %s\n", s);
			return 2;
		}
	}
	say("done");
	return 0;
}
