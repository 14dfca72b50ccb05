/* SPDX-License-Identifier: MIT */
/* Dual-stack adoption: an AF_INET bind onto an inherited [::] socket that is
 * not V6ONLY.  Every call that returns an address on that fd (and on the
 * connections accepted from it) returns AF_INET with the IPv4 length, and
 * follows the kernel's rule for a short buffer: the copy is truncated and
 * *addrlen says the full length.  An fd adopted without translation keeps
 * AF_INET6. */
#include "harness.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define XLATE_LOG "[dual-stack, translating addresses to IPv4]"

/* What a short buffer must hold: the first n bytes of the full address. */
static const char *head_hex(int family, const char *ip, unsigned port, size_t n)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	const unsigned char *b = (const unsigned char *)&ss;
	char out[2 * sizeof ss + 1] = "";

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_port = htons((unsigned short)port);
		cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_port = htons((unsigned short)port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	}
	for (size_t k = 0; k < n; k++)
		snprintf(out + 2 * k, 3, "%02x", b[k]);
	return fmt("%s", out);
}

/* The nth "addr" line of the server is call's report of family/len and
 * either the address text (full buffer) or, with a short buffer of `buflen`
 * bytes, the head of that address and "truncated". */
static void expect_addr(const struct run *r, int nth, const char *call, int family, const char *ip,
			unsigned port, int buflen)
{
	const int len = family == AF_INET ? (int)sizeof(struct sockaddr_in) : (int)sizeof(struct sockaddr_in6);
	const char *l = line_find(r->o, "addr", nth);
	char v[256];

	if (!l)
		run_dump(r);
	cr_assert_not_null(l, "no addr line #%d (%s)", nth, call);
	int n = (int)strcspn(l, "\n");
	cr_assert_str_eq(kv_str(l, "call", v, sizeof v), call, "addr #%d: %.*s", nth, n, l);
	cr_expect_eq(kv_num(l, "len"), len, "%s: want *addrlen %d: %.*s", call, len, n, l);
	cr_expect_eq(kv_num(l, "intact"), 1, "%s wrote past the app's %d bytes: %.*s", call, buflen, n, l);
	if (buflen >= len) {
		cr_expect_str_eq(kv_str(l, "family", v, sizeof v), family == AF_INET ? "inet" : "inet6",
				 "%s: %.*s", call, n, l);
		const char *want = family == AF_INET ? fmt("%s:%u", ip, port) : fmt("[%s]:%u", ip, port);
		cr_expect_str_eq(kv_str(l, "addr", v, sizeof v), want, "%s: %.*s", call, n, l);
	} else {
		cr_expect_str_eq(kv_str(l, "addr", v, sizeof v), "truncated", "%s: %.*s", call, n, l);
		kv_str(l, "bytes", v, sizeof v);
		cr_expect_str_eq(v, head_hex(family, ip, port, (size_t)buflen), "%s: the %d bytes copied: %.*s",
				 call, buflen, n, l);
	}
}

/* The server's steps for one stream client: the listener's name, the
 * peer from accept/accept4, the connection's peer and own name. */
static void stream_steps(struct args *a, const char *accept_call)
{
	args_add(a, "getsockname", accept_call, "getpeername", "getsockname", "reply");
}

/* Checks the five addr lines from `first` on, for a client on client_port. */
static void expect_stream(const struct run *r, int first, const char *accept_call, int family,
			  const char *any, const char *lo, unsigned port, unsigned client_port, int buflen)
{
	expect_addr(r, first, "getsockname", family, any, port, buflen);      /* the listener */
	expect_addr(r, first + 1, accept_call, family, lo, client_port, buflen);
	expect_addr(r, first + 2, "getpeername", family, lo, client_port, buflen);
	expect_addr(r, first + 3, "getsockname", family, lo, port, buflen);   /* the connection */
}

TestSuite(dualstack, .timeout = TEST_BACKSTOP_S);

/* accept, accept4, getsockname, getpeername with a full buffer and with 8
 * bytes (an IPv4 address fits, the kernel's length does not). */
Test(dualstack, tcp_family_and_length)
{
	struct args a = { .n = 0 };
	unsigned cport[4];
	struct run r;

	args_add(&a, "--listen", "tcp:[::]:0,v6only=0", "--", SERVER, "bind", "tcp:0.0.0.0:{port0}", "listen", "5");
	stream_steps(&a, "accept");
	stream_steps(&a, "accept4");
	args_add(&a, "addrlen", "8");
	stream_steps(&a, "accept");
	stream_steps(&a, "accept4");
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_not_null(run_wait(&r, "socket", 0));
	unsigned port = (unsigned)act_value(&r, 0, "port");
	for (int i = 0; i < 4; i++)
		cport[i] = expect_echo(fmt("tcp:127.0.0.1:%u", port), fmt("client%d", i));
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_assert_eq(line_count(r.o, "replied"), 4, "%s", r.o);
	for (int i = 0; i < 4; i++)
		expect_stream(&r, 4 * i, i % 2 ? "accept4" : "accept", AF_INET, "0.0.0.0", "127.0.0.1", port,
			      cport[i], i < 2 ? 128 : 8);
	const char *l = line_find_sub(r.e, "info: adopted", 0);
	cr_assert_not_null(l, "%s", r.e);
	cr_expect(line_find_sub(l, XLATE_LOG, 0) == l, "the adoption line does not say it translates:\n%s", r.e);
}

/* recvfrom and recvmsg (msg_namelen) the same way; the server answers the
 * sender from the address it was given.  It binds 127.0.0.1, which the
 * dual-stack rule serves too: getsockname says the socket's own 0.0.0.0. */
Test(dualstack, udp_family_and_length)
{
	unsigned cport[4];
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "udp:[::]:0,v6only=0", "--", SERVER, "bind", "udp:127.0.0.1:{port0}",
		  "getsockname", "recvfrom", "recvmsg", "addrlen", "8", "getsockname", "recvfrom", "recvmsg");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	unsigned port = (unsigned)act_value(&r, 0, "port");
	for (int i = 0; i < 4; i++)
		cport[i] = expect_echo(fmt("udp:127.0.0.1:%u", port), fmt("dgram%d", i));
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	for (int i = 0; i < 2; i++) {
		int buflen = i ? 8 : 128;
		expect_addr(&r, 3 * i, "getsockname", AF_INET, "0.0.0.0", port, buflen);
		expect_addr(&r, 3 * i + 1, "recvfrom", AF_INET, "127.0.0.1", cport[2 * i], buflen);
		expect_addr(&r, 3 * i + 2, "recvmsg", AF_INET, "127.0.0.1", cport[2 * i + 1], buflen);
	}
	const char *l = line_find_sub(r.e, "info: adopted", 0);
	cr_assert_not_null(l, "%s", r.e);
	cr_expect(line_find_sub(l, XLATE_LOG, 0) == l, "%s", r.e);
}

/* Control: a plain AF_INET6 adoption is not translated: AF_INET6, 28 bytes,
 * and a short buffer gets the head of the sockaddr_in6. */
Test(dualstack, control_ipv6_untranslated)
{
	struct args a = { .n = 0 };
	unsigned cport[2];
	struct run r;

	args_add(&a, "--listen", "tcp:[::1]:0", "--", SERVER, "bind", "tcp:[::1]:{port0}", "listen", "5");
	stream_steps(&a, "accept");
	args_add(&a, "addrlen", "8");
	stream_steps(&a, "accept4");
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_not_null(run_wait(&r, "socket", 0));
	unsigned port = (unsigned)act_value(&r, 0, "port");
	for (int i = 0; i < 2; i++)
		cport[i] = expect_echo(fmt("tcp:[::1]:%u", port), fmt("v6-%d", i));
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	expect_stream(&r, 0, "accept", AF_INET6, "::1", "::1", port, cport[0], 128);
	expect_stream(&r, 4, "accept4", AF_INET6, "::1", "::1", port, cport[1], 8);
	cr_expect_null(line_find_sub(r.e, "translating", 0), "%s", r.e);
}

/* Control on the same dual-stack socket: an AF_INET6 server that binds
 * [::] (not V6ONLY) expects IPv4 clients as v4-mapped IPv6 addresses, and
 * must get them so. */
Test(dualstack, control_ipv6_app_sees_v4_mapped)
{
	struct args a = { .n = 0 };
	struct run r;

	args_add(&a, "--listen", "tcp:[::]:0,v6only=0", "--", SERVER, "bind", "tcp:[::]:{port0}", "listen", "5");
	stream_steps(&a, "accept4");
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_not_null(run_wait(&r, "socket", 0));
	unsigned port = (unsigned)act_value(&r, 0, "port");
	unsigned cport = expect_echo(fmt("tcp:127.0.0.1:%u", port), "mapped");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	expect_stream(&r, 0, "accept4", AF_INET6, "::", "::ffff:127.0.0.1", port, cport, 128);
	cr_expect_null(line_find_sub(r.e, "translating", 0), "%s", r.e);
}

Test(dualstack, control_ipv6_untranslated_udp)
{
	unsigned cport[2];
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "udp:[::1]:0", "--", SERVER, "bind", "udp:[::1]:{port0}", "recvfrom",
		  "recvmsg");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	unsigned port = (unsigned)act_value(&r, 0, "port");
	for (int i = 0; i < 2; i++)
		cport[i] = expect_echo(fmt("udp:[::1]:%u", port), fmt("v6-%d", i));
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	expect_addr(&r, 0, "recvfrom", AF_INET6, "::1", cport[0], 128);
	expect_addr(&r, 1, "recvmsg", AF_INET6, "::1", cport[1], 128);
	cr_expect_null(line_find_sub(r.e, "translating", 0), "%s", r.e);
}

/* What nginx and others do with "listen 80; listen [::]:80 ipv6only=on;"
 * under ListenStream=80: both binds get the one dual-stack socket, and each
 * family's client is answered (IPv4 through the IPv4 fd, IPv6 through the
 * IPv6 one).  The app's V6ONLY cannot be had: one warning says so. */
Test(dualstack, v4_and_v6_binds_share_one_socket)
{
	char v[128];
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "tcp:[::]:0,v6only=0", "--", SERVER,
		  "bind", "tcp:0.0.0.0:{port0}", "listen", "5", "bind", "tcp:[::]:{port0},v6only=1", "listen", "5",
		  "use", "0", "serve", "use", "1", "serve");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	unsigned port = (unsigned)act_value(&r, 0, "port");
	expect_echo(fmt("tcp:127.0.0.1:%u", port), "over-ipv4");
	expect_echo(fmt("tcp:[::1]:%u", port), "over-ipv6");
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count(r.o, "bound"), 2, "%s", r.o);
	expect_adopted(&r, 0, 0);
	expect_adopted(&r, 1, 0);
	cr_expect_eq(line_count(r.o, "listened"), 2, "%s", r.o);
	cr_expect_neq(kv_num(line_find(r.o, "bound", 0), "fd"), kv_num(line_find(r.o, "bound", 1), "fd"), "%s", r.o);

	const char *s4 = line_find(r.o, "served", 0), *s6 = line_find(r.o, "served", 1);
	cr_assert(s4 && s6, "%s", r.o);
	cr_expect_eq(kv_num(s4, "fd"), kv_num(line_find(r.o, "bound", 0), "fd"), "%s", r.o);
	cr_expect_str_eq(kv_str(s4, "family", v, sizeof v), "inet", "%s", r.o);
	cr_expect(!strncmp(kv_str(s4, "peer", v, sizeof v), "127.0.0.1:", 10), "%s", r.o);
	cr_expect_eq(kv_num(s6, "fd"), kv_num(line_find(r.o, "bound", 1), "fd"), "%s", r.o);
	cr_expect_str_eq(kv_str(s6, "family", v, sizeof v), "inet6", "%s", r.o);
	cr_expect(!strncmp(kv_str(s6, "peer", v, sizeof v), "[::1]:", 6), "%s", r.o);

	cr_expect_eq(line_count_sub(r.e, "info: adopted"), 2, "%s", r.e);
	cr_expect_eq(line_count_sub(r.e, "sdadopt: warning:"), 1, "%s", r.e);
	cr_expect_not_null(line_find_sub(r.e, "IPV6_V6ONLY", 0), "%s", r.e);
}
