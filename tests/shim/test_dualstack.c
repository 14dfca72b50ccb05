/* SPDX-License-Identifier: MIT */
/* Dual-stack adoption: an AF_INET bind onto an inherited [::] socket that is
 * not V6ONLY.  Every call that returns an address on that fd (and on the
 * connections accepted from it) returns AF_INET with the IPv4 length, and
 * follows the kernel's rule for a short buffer: the copy is truncated and
 * *addrlen says the full length.  An fd adopted without translation keeps
 * AF_INET6. */
#include "harness.h"
#include "addrcheck.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define XLATE_LOG "[dual-stack, translating addresses to IPv4]"

TestSuite(dualstack, .timeout = TEST_BACKSTOP_S);

/* accept, accept4, getsockname, getpeername with a full buffer and with 8
 * bytes (an IPv4 address fits, the kernel's length does not). */
Test(dualstack, tcp_family_and_length)
{
	static const int buflen[4] = { 128, 128, 8, 8 };
	struct args a = { .n = 0 };
	struct run r;

	args_add(&a, "--listen", "tcp:[::]:0,v6only=0", "--", SERVER, "bind", "tcp:0.0.0.0:{port0}", "listen", "5");
	expect_stream_run(&r, &a, "tcp:127.0.0.1:%u", AF_INET, "0.0.0.0", "127.0.0.1", 4, buflen);
	expect_adopt_log(&r, XLATE_LOG);
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
	unsigned port = echo_adopted(&r, "udp:127.0.0.1:%u", "dgram", 4, cport);
	for (int i = 0; i < 2; i++) {
		int buflen = i ? 8 : 128;
		expect_addr(&r, 3 * i, "getsockname", AF_INET, "0.0.0.0", port, buflen);
		expect_addr(&r, 3 * i + 1, "recvfrom", AF_INET, "127.0.0.1", cport[2 * i], buflen);
		expect_addr(&r, 3 * i + 2, "recvmsg", AF_INET, "127.0.0.1", cport[2 * i + 1], buflen);
	}
	expect_adopt_log(&r, XLATE_LOG);
}

/* The controls on the TCP paths: an AF_INET6 server whose bind is adopted
 * as it is (no translation) sees AF_INET6 addresses, 28 bytes, in both its
 * clients' calls (any: the listener's, lo: both ends of each connection);
 * the second client's go into buflen2 bytes; no log line says it
 * translates. */
static void control_untranslated(const char *listen, const char *bind, const char *client, const char *any,
				 const char *lo, int buflen2)
{
	const int buflen[2] = { 128, buflen2 };
	struct args a = { .n = 0 };
	struct run r;

	args_add(&a, "--listen", listen, "--", SERVER, "bind", bind, "listen", "5");
	expect_stream_run(&r, &a, client, AF_INET6, any, lo, 2, buflen);
	cr_expect_null(line_find_sub(r.e, "translating", 0), "%s", r.e);
}

/* A plain AF_INET6 adoption: a short buffer (8) gets the head of the
 * sockaddr_in6. */
Test(dualstack, control_ipv6_untranslated)
{
	control_untranslated("tcp:[::1]:0", "tcp:[::1]:{port0}", "tcp:[::1]:%u", "::1", "::1", 8);
}

/* On the same dual-stack socket: an AF_INET6 server that binds [::] (not
 * V6ONLY) expects IPv4 clients as v4-mapped IPv6 addresses, and must get
 * them so. */
Test(dualstack, control_ipv6_app_sees_v4_mapped)
{
	control_untranslated("tcp:[::]:0,v6only=0", "tcp:[::]:{port0}", "tcp:127.0.0.1:%u", "::", "::ffff:127.0.0.1",
			     128);
}

Test(dualstack, control_ipv6_untranslated_udp)
{
	unsigned cport[2];
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "udp:[::1]:0", "--", SERVER, "bind", "udp:[::1]:{port0}", "recvfrom",
		  "recvmsg");
	echo_adopted(&r, "udp:[::1]:%u", "v6-", 2, cport);
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
