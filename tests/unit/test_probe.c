/* SPDX-License-Identifier: MIT */
/* Unit tests of core/probe on real sockets made by the test itself
 * (loopback and unix only). */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "probe.h"

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)

/* ---- helpers -------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base || strlen(base) > 20)
		base = "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/sdaunit-XXXXXX", base);
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static void remove_tmpdir(void)
{
	/* best effort: the sockets made in it */
	static const char *const names[] = {"s.sock", "d.sock", "q.sock", "gone.sock", "r.sock", "b.sock"};
	char p[256];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

/* A fresh, zeroed struct sda_sock (as sda_registry_alloc() hands out). */
static void garbage(struct sda_sock *s)
{
	memset(s, 0, sizeof *s);
}

static int inet_sock(int family, int type, const char *ip, int do_listen, int v6only)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET6 && v6only >= 0)
		cr_assert_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only), 0);
	if (ip) {
		struct sockaddr_storage ss;
		socklen_t len;
		memset(&ss, 0, sizeof ss);
		if (family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			cr_assert_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
			len = sizeof *s4;
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			cr_assert_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
			len = sizeof *s6;
		}
		if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
			int e = errno;
			close(fd);
			if (family == AF_INET6 && (e == EADDRNOTAVAIL || e == EAFNOSUPPORT))
				cr_skip_test("no IPv6 loopback here (%s)", strerror(e));
			cr_assert_fail("bind %s: %s", ip, strerror(e));
		}
	}
	if (do_listen)
		cr_assert_eq(listen(fd, 8), 0, "listen: %s", strerror(errno));
	return fd;
}

static int inet6_or_skip(int type, const char *ip, int do_listen, int v6only)
{
	int fd = socket(AF_INET6, type, 0);
	if (fd < 0)
		cr_skip_test("no IPv6 sockets here (%s)", strerror(errno));
	close(fd);
	return inet_sock(AF_INET6, type, ip, do_listen, v6only);
}

static int unix_sock(int type, const void *path, socklen_t len, int do_listen)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	if (path) {
		struct sockaddr_un su;
		memset(&su, 0, sizeof su);
		su.sun_family = AF_UNIX;
		cr_assert_leq(len, sizeof su.sun_path);
		memcpy(su.sun_path, path, len);
		cr_assert_eq(bind(fd, (struct sockaddr *)&su, (socklen_t)(SUN_OFF + len)), 0, "bind unix: %s",
			     strerror(errno));
	}
	if (do_listen)
		cr_assert_eq(listen(fd, 8), 0, "listen: %s", strerror(errno));
	return fd;
}

/* What the kernel says the socket is bound to, as an sda_addr. */
static struct sda_addr bound_addr(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct sda_addr a;
	memset(&ss, 0, sizeof ss);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, len, &a), 0);
	return a;
}

static void expect_identity(int fd, const struct sda_sock *s)
{
	struct stat st;
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(s->fd, fd, "fd %d, want %d", s->fd, fd);
	cr_assert_eq(s->dev, st.st_dev);
	cr_assert_eq(s->ino, st.st_ino, "ino %lu, want %lu", (unsigned long)s->ino, (unsigned long)st.st_ino);
}

static void expect_usable(int fd, struct sda_sock *s)
{
	int r = sda_probe(fd, s);
	cr_assert_eq(r, 0, "sda_probe(%d) = %d (%s)", fd, r, s->why ? s->why : "-");
	cr_assert_eq(s->usable, 1);
	cr_assert_eq(s->err, 0);
	expect_identity(fd, s);
	struct sda_addr a = bound_addr(fd);
	cr_assert_eq(sda_addr_cmp(&s->addr, &a), 0, "probed address differs from getsockname()");
}

static void expect_unusable(int fd, struct sda_sock *s, const char *what)
{
	int r = sda_probe(fd, s);
	cr_assert_lt(r, 0, "%s: sda_probe returned %d", what, r);
	cr_assert_eq(s->usable, 0, "%s: marked usable", what);
	cr_assert_not_null(s->why, "%s: no reason given", what);
	cr_assert_gt(strlen(s->why), 0u, "%s: empty reason", what);
}

/* ---- usable sockets -------------------------------------------------------- */

Test(probe, tcp4_listening)
{
	int fd = inet_sock(AF_INET, SOCK_STREAM, "127.0.0.1", 1, -1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_INET);
	cr_assert_eq(s.type, SOCK_STREAM);
	cr_assert_eq(s.protocol, IPPROTO_TCP);
	cr_assert_eq(s.listening, 1);
	cr_assert_eq(s.v6only, 0, "v6only must be 0 for AF_INET");
	cr_assert_eq(s.addr.family, AF_INET);
	cr_assert_neq(s.addr.port, 0);
	static const unsigned char lo[4] = {127, 0, 0, 1};
	cr_assert_arr_eq(s.addr.ip, lo, 4);
	cr_assert_eq(s.path_dev, 0, "path_dev must be 0 for a non-unix socket");
	cr_assert_eq(s.path_ino, 0, "path_ino must be 0 for a non-unix socket");
	close(fd);
}

Test(probe, tcp4_wildcard)
{
	int fd = inet_sock(AF_INET, SOCK_STREAM, "0.0.0.0", 1, -1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert(sda_addr_is_wildcard(&s.addr));
	cr_assert_neq(s.addr.port, 0);
	close(fd);
}

Test(probe, flags_do_not_leak_into_type_and_are_kept)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(fd, 1), 0);
	int fl = fcntl(fd, F_GETFL), fdf = fcntl(fd, F_GETFD);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.type, SOCK_STREAM, "type %#x carries flags", s.type);
	cr_assert_eq(fcntl(fd, F_GETFL), fl, "probe changed the file status flags");
	cr_assert_eq(fcntl(fd, F_GETFD), fdf, "probe changed the fd flags");
	close(fd);
}

Test(probe, tcp6_loopback_v6only)
{
	int fd = inet6_or_skip(SOCK_STREAM, "::1", 1, 1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_INET6);
	cr_assert_eq(s.type, SOCK_STREAM);
	cr_assert_eq(s.protocol, IPPROTO_TCP);
	cr_assert_eq(s.listening, 1);
	cr_assert_eq(s.v6only, 1);
	cr_assert_eq(s.addr.family, AF_INET6);
	cr_assert_arr_eq(s.addr.ip, &in6addr_loopback, 16);
	cr_assert_neq(s.addr.port, 0);
	cr_assert_eq(s.path_ino, 0);
	close(fd);
}

Test(probe, tcp6_wildcard_dual_stack)
{
	int fd = inet6_or_skip(SOCK_STREAM, "::", 1, 0);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_INET6);
	cr_assert_eq(s.v6only, 0);
	cr_assert(sda_addr_is_wildcard(&s.addr));
	close(fd);
}

Test(probe, tcp6_wildcard_v6only)
{
	int fd = inet6_or_skip(SOCK_STREAM, "::", 1, 1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.v6only, 1);
	close(fd);
}

Test(probe, udp4)
{
	int fd = inet_sock(AF_INET, SOCK_DGRAM, "127.0.0.1", 0, -1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_INET);
	cr_assert_eq(s.type, SOCK_DGRAM);
	cr_assert_eq(s.protocol, IPPROTO_UDP);
	cr_assert_eq(s.listening, 0);
	cr_assert_neq(s.addr.port, 0);
	close(fd);
}

Test(probe, udp6)
{
	int fd = inet6_or_skip(SOCK_DGRAM, "::", 0, 0);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_INET6);
	cr_assert_eq(s.type, SOCK_DGRAM);
	cr_assert_eq(s.protocol, IPPROTO_UDP);
	cr_assert_eq(s.v6only, 0);
	close(fd);
}

Test(probe, unix_path_stream, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128];
	snprintf(path, sizeof path, "%s/s.sock", tmpdir);
	int fd = unix_sock(SOCK_STREAM, path, (socklen_t)strlen(path) + 1, 1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_UNIX);
	cr_assert_eq(s.type, SOCK_STREAM);
	cr_assert_eq(s.protocol, 0);
	cr_assert_eq(s.listening, 1);
	cr_assert_eq(s.v6only, 0);
	cr_assert_eq(s.addr.family, AF_UNIX);
	cr_assert_eq(s.addr.abstract, 0);
	cr_assert_eq(s.addr.port, 0);
	cr_assert_str_eq(s.addr.path, path);
	cr_assert_eq(s.addr.plen, strlen(path));
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(s.path_dev, st.st_dev);
	cr_assert_eq(s.path_ino, st.st_ino);
	cr_assert_neq(s.path_ino, s.ino, "the socket file's inode is not the socket's inode");
	close(fd);
}

Test(probe, unix_path_dgram, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128];
	snprintf(path, sizeof path, "%s/d.sock", tmpdir);
	int fd = unix_sock(SOCK_DGRAM, path, (socklen_t)strlen(path), 0);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.type, SOCK_DGRAM);
	cr_assert_eq(s.listening, 0);
	cr_assert_str_eq(s.addr.path, path);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(s.path_ino, st.st_ino);
	close(fd);
}

Test(probe, unix_seqpacket, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128];
	snprintf(path, sizeof path, "%s/q.sock", tmpdir);
	int fd = unix_sock(SOCK_SEQPACKET, path, (socklen_t)strlen(path) + 1, 1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_UNIX);
	cr_assert_eq(s.type, SOCK_SEQPACKET);
	cr_assert_eq(s.listening, 1);
	close(fd);
}

Test(probe, unix_path_of_108_bytes, .init = make_tmpdir, .fini = remove_tmpdir)
{
	/* sun_path filled completely, no NUL: the kernel allows it. */
	char path[109];
	int n = snprintf(path, sizeof path, "%s/", tmpdir);
	memset(path + n, 'L', sizeof path - 1 - (size_t)n);
	path[108] = '\0';
	int fd = unix_sock(SOCK_STREAM, path, 108, 1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.addr.plen, 108u);
	cr_assert_arr_eq(s.addr.path, path, 108);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(s.path_ino, st.st_ino);
	close(fd);
	unlink(path);
}

Test(probe, unix_path_removed_has_no_path_inode, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128];
	snprintf(path, sizeof path, "%s/gone.sock", tmpdir);
	int fd = unix_sock(SOCK_STREAM, path, (socklen_t)strlen(path) + 1, 1);
	cr_assert_eq(unlink(path), 0);
	struct sda_sock s;
	garbage(&s);
	(void)sda_probe(fd, &s);
	cr_assert_eq(s.path_dev, 0);
	cr_assert_eq(s.path_ino, 0);
	close(fd);
}

Test(probe, unix_path_replaced_by_regular_file, .init = make_tmpdir, .fini = remove_tmpdir)
{
	/* The path now names something that is not a socket: its inode must not
	 * be recorded (unlink protection would otherwise guard a stranger). */
	char path[128];
	snprintf(path, sizeof path, "%s/r.sock", tmpdir);
	int fd = unix_sock(SOCK_STREAM, path, (socklen_t)strlen(path) + 1, 1);
	cr_assert_eq(unlink(path), 0);
	int f = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(f, 0);
	close(f);
	struct sda_sock s;
	garbage(&s);
	(void)sda_probe(fd, &s);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_neq(s.path_ino, st.st_ino, "recorded the inode of a regular file");
	close(fd);
	unlink(path);
}

Test(probe, unix_abstract)
{
	char name[64];
	int n = snprintf(name, sizeof name, "%csdadopt-unit-%d-%ld", '\0', (int)getpid(), (long)random());
	int fd = unix_sock(SOCK_STREAM, name, (socklen_t)n, 1);
	struct sda_sock s;
	garbage(&s);
	expect_usable(fd, &s);
	cr_assert_eq(s.family, AF_UNIX);
	cr_assert_eq(s.addr.abstract, 1);
	cr_assert_eq(s.addr.plen, (size_t)n - 1);
	cr_assert_arr_eq(s.addr.path, name + 1, (size_t)n - 1);
	cr_assert_eq(s.path_dev, 0);
	cr_assert_eq(s.path_ino, 0);
	close(fd);
}

Test(probe, dup_has_same_identity)
{
	int fd = inet_sock(AF_INET, SOCK_STREAM, "127.0.0.1", 1, -1);
	int fd2 = dup(fd);
	cr_assert_geq(fd2, 0);
	struct sda_sock a, b;
	garbage(&a);
	garbage(&b);
	expect_usable(fd, &a);
	expect_usable(fd2, &b);
	cr_assert_eq(a.ino, b.ino);
	cr_assert_eq(a.dev, b.dev);
	cr_assert_eq(b.fd, fd2);
	cr_assert_eq(sda_addr_cmp(&a.addr, &b.addr), 0);
	close(fd);
	close(fd2);
}

Test(probe, reprobe_overwrites_every_field, .init = make_tmpdir, .fini = remove_tmpdir)
{
	/* A struct reused for another fd (re-probing a registry slot): nothing of
	 * the previous socket may survive.  A stale path_ino on a TCP entry would
	 * make sda_registry_find_path_inode() (which does not look at the family)
	 * protect the old socket file's path; a stale v6only would be reported for
	 * an AF_INET / AF_UNIX socket. */
	char path[128];
	snprintf(path, sizeof path, "%s/b.sock", tmpdir);
	int ux = unix_sock(SOCK_STREAM, path, (socklen_t)strlen(path) + 1, 1);
	int tcp = inet_sock(AF_INET, SOCK_STREAM, "127.0.0.1", 1, -1);
	struct sda_sock s;
	memset(&s, 0, sizeof s);

	expect_usable(ux, &s);
	cr_assert_neq(s.path_ino, 0);
	expect_usable(tcp, &s);
	cr_assert_eq(s.path_dev, 0, "path_dev of the previous unix socket survived");
	cr_assert_eq(s.path_ino, 0, "path_ino of the previous unix socket survived");

	int fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd6 >= 0) {
		close(fd6);
		fd6 = inet_sock(AF_INET6, SOCK_STREAM, "::1", 1, 1);
		expect_usable(fd6, &s);
		cr_assert_eq(s.v6only, 1);
		expect_usable(tcp, &s);
		cr_assert_eq(s.v6only, 0, "v6only of the previous IPv6 socket survived on an AF_INET socket");
		close(fd6);
	}

	/* and from garbage */
	memset(&s, 0xA5, sizeof s);
	expect_usable(tcp, &s);
	cr_assert_eq(s.v6only, 0);
	cr_assert_eq(s.path_dev, 0);
	cr_assert_eq(s.path_ino, 0);
	close(tcp);
	close(ux);
}

/* ---- unusable fds ---------------------------------------------------------- */

Test(probe, unbound_sockets_unusable)
{
	struct sda_sock s;
	int fd = inet_sock(AF_INET, SOCK_STREAM, NULL, 0, -1);
	garbage(&s);
	expect_unusable(fd, &s, "unbound tcp");
	cr_assert_eq(s.family, AF_INET);
	close(fd);

	fd = inet_sock(AF_INET, SOCK_DGRAM, NULL, 0, -1);
	garbage(&s);
	expect_unusable(fd, &s, "unbound udp");
	close(fd);

	fd = unix_sock(SOCK_STREAM, NULL, 0, 0);
	garbage(&s);
	expect_unusable(fd, &s, "unbound unix stream");
	cr_assert_eq(s.family, AF_UNIX);
	close(fd);

	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	garbage(&s);
	expect_unusable(sp[0], &s, "socketpair end");
	close(sp[0]);
	close(sp[1]);
}

Test(probe, non_listening_stream_unusable)
{
	int fd = inet_sock(AF_INET, SOCK_STREAM, "127.0.0.1", 0, -1);
	struct sda_sock s;
	garbage(&s);
	expect_unusable(fd, &s, "bound, not listening tcp");
	cr_assert_eq(s.family, AF_INET);
	cr_assert_eq(s.type, SOCK_STREAM);
	cr_assert_eq(s.listening, 0);
	close(fd);
}

Test(probe, connection_socket_unusable)
{
	/* What an Accept=yes service receives: a connected stream socket. */
	int l = inet_sock(AF_INET, SOCK_STREAM, "127.0.0.1", 1, -1);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	cr_assert_eq(getsockname(l, (struct sockaddr *)&ss, &len), 0);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(c, 0);
	cr_assert_eq(connect(c, (struct sockaddr *)&ss, len), 0, "connect: %s", strerror(errno));
	int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(a, 0);
	struct sda_sock s;
	garbage(&s);
	expect_unusable(a, &s, "accepted connection");
	cr_assert_eq(s.listening, 0);
	garbage(&s);
	expect_unusable(c, &s, "connecting side");
	close(a);
	close(c);
	close(l);
}

Test(probe, pipe_not_a_socket)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	struct sda_sock s;
	garbage(&s);
	expect_unusable(p[0], &s, "pipe");
	cr_assert(strstr(s.why, "not a socket") != NULL, "why = \"%s\"", s.why);
	cr_assert_eq(s.fd, p[0]);
	close(p[0]);
	close(p[1]);
}

Test(probe, regular_file_not_a_socket)
{
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	struct sda_sock s;
	garbage(&s);
	expect_unusable(fd, &s, "regular file");
	cr_assert(strstr(s.why, "not a socket") != NULL, "why = \"%s\"", s.why);
	close(fd);
}

Test(probe, closed_fd_unusable)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	close(fd);
	struct sda_sock s;
	garbage(&s);
	int r = sda_probe(fd, &s);
	cr_assert_eq(s.usable, 0);
	cr_assert_not_null(s.why);
	cr_assert_eq(s.err, EBADF, "err = %d", s.err);
	cr_assert_eq(r, -EBADF, "r = %d", r);

	garbage(&s);
	r = sda_probe(-1, &s);
	cr_assert_eq(s.usable, 0);
	cr_assert_eq(r, -EBADF);
}

Test(probe, netlink_unusable)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		cr_skip_test("no netlink socket here (%s)", strerror(errno));
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	cr_assert_eq(bind(fd, (struct sockaddr *)&nl, sizeof nl), 0);
	struct sda_sock s;
	garbage(&s);
	expect_unusable(fd, &s, "netlink");
	cr_assert_eq(s.family, AF_NETLINK);
	close(fd);
}

/* ---- sda_sys_getsockname ----------------------------------------------- */

Test(probe, sys_getsockname)
{
	int fd = inet_sock(AF_INET, SOCK_STREAM, "127.0.0.1", 1, -1);
	struct sockaddr_in a, b;
	socklen_t la = sizeof a, lb = sizeof b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	cr_assert_eq(sda_sys_getsockname(fd, (struct sockaddr *)&a, &la), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&b, &lb), 0);
	cr_assert_eq(la, lb);
	cr_assert_arr_eq(&a, &b, sizeof a);
	close(fd);

	errno = 0;
	la = sizeof a;
	cr_assert_eq(sda_sys_getsockname(fd, (struct sockaddr *)&a, &la), -1);
	cr_assert_eq(errno, EBADF);
}
