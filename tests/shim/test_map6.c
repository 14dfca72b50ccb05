/* SPDX-License-Identifier: MIT */
/* v4-mapped adoption: an AF_INET6 server that binds an IPv4-mapped address
 * ([::ffff:127.0.0.1]:P, what the JVM does for an IPv4 address) gets the
 * inherited AF_INET socket of that address.  On that fd (and the
 * connections accepted from it) every address the kernel returns is shown
 * as the v4-mapped sockaddr_in6 a real v4-mapped socket returns, truncated
 * to a short buffer as the kernel truncates, with the full length; the
 * addresses the server passes (sendto, sendmsg, connect) reach the IPv4
 * socket as IPv4; IPv6-level options and IPV6_PKTINFO follow core/map6.h.
 * Each case has a negative control: without the shim the bind fails
 * (EADDRINUSE), or a native v4-mapped socket shows what the kernel does. */
#include "harness.h"
#include "addrcheck.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "map6.h"

#define MAP6_LOG ", translating addresses to IPv4-mapped IPv6]"
#define LO6 "::ffff:127.0.0.1"

TestSuite(map6, .timeout = TEST_BACKSTOP_S);

/* The negative control: the same bind without the shim fails. */
static void control_without_shim(const char *listen, const char *bind, const char *err)
{
	struct run r;

	run_start(&r, NO_SHIM, "--listen", listen, "--", SERVER, "bind", bind, "loaded");
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find_sub(r.o, "loaded sdadopt=0", 0), "%s", r.o);
	const char *l = line_find(r.o, "bind-error", 0);
	if (!l)
		run_dump(&r);
	cr_assert_not_null(l, "without the shim, bind(%s) under %s did not fail", bind, listen);
	cr_expect(line_find_sub(l, fmt("err=%s", err), 0) == l, "%.*s", (int)strcspn(l, "\n"), l);
}

/* The adoption line says "[HOW, translating addresses to IPv4-mapped IPv6]". */
static void expect_log(const struct run *r, const char *how)
{
	expect_adopt_log(r, fmt("[%s" MAP6_LOG, how));
}

/* accept, accept4, getsockname, getpeername: a full buffer, 8 bytes (less
 * than either family's), 20 (a sockaddr_in fits, a sockaddr_in6 does not). */
Test(map6, tcp_family_and_length)
{
	static const int buflen[6] = { 128, 128, 8, 8, 20, 20 };
	struct args a = { .n = 0 };
	struct run r;

	args_add(&a, "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind", "tcp:[" LO6 "]:{port0},v6only=0",
		 "listen", "5");
	expect_stream_run(&r, &a, "tcp:127.0.0.1:%u", AF_INET6, LO6, LO6, 6, buflen);
	expect_log(&r, "exact");
	cr_expect_eq(line_count_sub(r.e, "sdadopt: warning:"), 0, "%s", r.e);
}

Test(map6, tcp_control_without_shim)
{
	control_without_shim("tcp:127.0.0.1:0", "tcp:[" LO6 "]:{port0},v6only=0", "EADDRINUSE");
}

/* recvfrom and recvmsg (msg_namelen) with the same buffers; each datagram
 * is answered with sendto() to the v4-mapped address it came from, which
 * the client must receive. */
Test(map6, udp_family_and_length)
{
	static const int buf[3] = { 128, 8, 20 };
	struct args a = { .n = 0 };
	unsigned cport[6];
	struct run r;

	args_add(&a, "--listen", "udp:127.0.0.1:0", "--", SERVER, "bind", "udp:[" LO6 "]:{port0},v6only=0");
	for (int k = 0; k < 3; k++)
		args_add(&a, "addrlen", fmt("%d", buf[k]), "getsockname", "recvfrom", "recvmsg");
	run_start_args(&r, WITH_SHIM, &a);
	unsigned port = echo_adopted(&r, "udp:127.0.0.1:%u", "dgram", 6, cport);
	for (int k = 0; k < 3; k++) {
		expect_addr(&r, 3 * k, "getsockname", AF_INET6, LO6, port, buf[k]);
		expect_addr(&r, 3 * k + 1, "recvfrom", AF_INET6, LO6, cport[2 * k], buf[k]);
		expect_addr(&r, 3 * k + 2, "recvmsg", AF_INET6, LO6, cport[2 * k + 1], buf[k]);
	}
	cr_expect_eq(line_count(r.o, "reply-error"), 0, "sendto() to a v4-mapped address failed: %s", r.o);
	expect_log(&r, "exact");
}

Test(map6, udp_control_without_shim)
{
	control_without_shim("udp:127.0.0.1:0", "udp:[" LO6 "]:{port0}", "EADDRINUSE");
}

/* A connected reply: connect() to the v4-mapped sender and send(), on the
 * adopted socket.  (Its disconnect, connect(AF_UNSPEC), also unbinds it: the
 * activator bound port 0, so the kernel holds no port lock, natively too.) */
Test(map6, udp_connect)
{
	char v[128];
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "udp:127.0.0.1:0", "--", SERVER, "bind", "udp:[" LO6 "]:{port0}",
		  "connect-reply");
	unsigned cport;
	echo_adopted(&r, "udp:127.0.0.1:%u", "connected", 1, &cport);
	const char *l = line_find(r.o, "connected", 0);
	cr_assert_not_null(l, "%s", r.o);
	cr_expect_eq(kv_num(l, "rc"), 0, "%s", r.o);
	cr_expect_str_eq(kv_str(l, "peer", v, sizeof v), fmt("[" LO6 "]:%u", cport), "%s", r.o);
}

/* The inherited socket is 0.0.0.0:P: a v4-mapped bind gets it by the
 * wildcard rule, and a dual-stack [::] bind (the JVM's InetSocketAddress(P))
 * by the dual-stack rule.  Both read the socket's own name back in the
 * v4-mapped form, ::ffff:0.0.0.0. */
static void wildcard_case(const char *bind, const char *how)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "tcp:0.0.0.0:0", "--", SERVER, "bind", bind, "listen", "5",
		  "getsockname", "accept", "getsockname", "reply");
	unsigned cport, port = echo_adopted(&r, "tcp:127.0.0.1:%u", "wild", 1, &cport);
	expect_addr(&r, 0, "getsockname", AF_INET6, "::ffff:0.0.0.0", port, 128);
	expect_addr(&r, 1, "accept", AF_INET6, LO6, cport, 128);
	expect_addr(&r, 2, "getsockname", AF_INET6, LO6, port, 128);
	expect_log(&r, how);
}

Test(map6, wildcard)
{
	wildcard_case("tcp:[" LO6 "]:{port0},v6only=0", "wildcard");
}

Test(map6, ipv4_wildcard_bind)
{
	wildcard_case("tcp:[::ffff:0.0.0.0]:{port0},v6only=0", "exact");
}

Test(map6, dualstack_wildcard_bind)
{
	wildcard_case("tcp:[::]:{port0},v6only=0", "dual-stack");
}

Test(map6, wildcard_controls_without_shim)
{
	control_without_shim("tcp:0.0.0.0:0", "tcp:[" LO6 "]:{port0},v6only=0", "EADDRINUSE");
	control_without_shim("tcp:0.0.0.0:0", "tcp:[::]:{port0},v6only=0", "EADDRINUSE");
}

/* A [::] bind with IPV6_V6ONLY asks for IPv6 only: the IPv4 socket is not
 * for it, and it binds natively beside it (as without the shim). */
Test(map6, v6only_wildcard_not_adopted)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "tcp:0.0.0.0:0", "--", SERVER, "bind", "tcp:[::]:{port0},v6only=1");
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find(r.o, "bound", 0), "%s", r.o);
	expect_not_adopted(&r, 0);
	cr_expect_null(line_find_sub(r.e, "info: adopted", 0), "%s", r.e);
}

/* A V6ONLY socket cannot bind a v4-mapped address (EINVAL): with the shim
 * as without it. */
Test(map6, v6only_app_gets_einval)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind",
		  "tcp:[" LO6 "]:{port0},v6only=1");
	cr_assert_eq(run_finish(&r), 0);
	const char *l = line_find(r.o, "bind-error", 0);
	cr_assert_not_null(l, "%s", r.o);
	cr_expect(line_find_sub(l, "err=EINVAL", 0) == l, "%s", r.o);
	cr_expect_null(line_find_sub(r.e, "info: adopted", 0), "%s", r.e);
	control_without_shim("tcp:127.0.0.1:0", "tcp:[" LO6 "]:{port0},v6only=1", "EINVAL");
}

/* SDADOPT_MAP in the v4-mapped form, and in the IPv4 form. */
Test(map6, sdadopt_map)
{
	for (int form = 0; form < 2; form++) {
		struct run r;
		const char *key = form ? "127.0.0.2:{port0}" : "[::ffff:127.0.0.2]:{port0}";

		run_start(&r, WITH_SHIM, "--env", fmt("SDADOPT_MAP=%s=web", key), "--name", "web", "--listen",
			  "tcp:127.0.0.1:0", "--", SERVER, "bind", "tcp:[::ffff:127.0.0.2]:{port0}", "listen", "5",
			  "accept", "reply");
		unsigned cport;
		echo_adopted(&r, "tcp:127.0.0.1:%u", "mapped", 1, &cport);
		expect_addr(&r, 0, "accept", AF_INET6, LO6, cport, 128);
		expect_log(&r, "map");
	}
	/* control: without the map the bind of 127.0.0.2 is not adopted */
	struct run r;
	run_start(&r, WITH_SHIM, "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind", "tcp:[::ffff:127.0.0.2]:{port0}");
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find(r.o, "bound", 0), "%s", r.o);
	expect_not_adopted(&r, 0);
}

/* SDADOPT_MATCH=port and SDADOPT_STRICT=1 treat a v4-mapped bind as the
 * IPv4 bind it is. */
Test(map6, policy_port_and_strict)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_MATCH=port", "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind",
		  "tcp:[::ffff:127.0.0.2]:{port0}");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	expect_log(&r, "port");

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_STRICT=1", "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind",
		  "tcp:[::ffff:127.0.0.2]:{port0}", "bind", "tcp:[" LO6 "]:{port0}");
	cr_assert_eq(run_finish(&r), 0);
	const char *l = line_find(r.o, "bind-error", 0);
	cr_assert_not_null(l, "%s", r.o);
	cr_expect(line_find_sub(l, "err=EADDRINUSE", 0) == l, "%s", r.o);
	cr_expect_not_null(line_find_sub(r.e, "(SDADOPT_STRICT)", 0), "%s", r.e);
	expect_adopted(&r, 0, 0);             /* the second bind, of the inherited address */
}

/* ---- socket options --------------------------------------------------------- */

/* The value or error of the nth "opt"/"optset" line naming `name`. */
static const char *opt_line(const struct run *r, const char *word, const char *name, int nth)
{
	const char *hit = NULL;

	for (int i = 0, k = 0; (hit = line_find(r->o, word, i)); i++) {
		const char *nl = strchr(hit, '\n');
		const char *m = strstr(hit, fmt(" name=%s ", name));
		if (m && (!nl || m < nl) && k++ == nth)
			return hit;
	}
	return NULL;
}

static void expect_get(const struct run *r, int fd, const char *name, int nth, long long want)
{
	const char *l = opt_line(r, "opt", name, nth);
	if (!l)
		run_dump(r);
	cr_assert_not_null(l, "no getopt %s #%d on fd %d", name, nth, fd);
	cr_expect_eq(kv_num(l, "fd"), fd, "%.*s", (int)strcspn(l, "\n"), l);
	cr_expect_eq(kv_num(l, "value"), want, "fd %d: %s reads %lld, want %lld", fd, name, kv_num(l, "value"),
		     want);
}

static void expect_set(const struct run *r, int fd, const char *name, int nth, const char *err)
{
	char v[64];
	const char *l = opt_line(r, "optset", name, nth);
	if (!l)
		run_dump(r);
	cr_assert_not_null(l, "no setopt %s #%d", name, nth);
	cr_expect_eq(kv_num(l, "fd"), fd, "%.*s", (int)strcspn(l, "\n"), l);
	cr_expect_str_eq(kv_str(l, "err", v, sizeof v), err, "fd %d: %.*s", fd, (int)strcspn(l, "\n"), l);
}

/* After bind, each IPv6-level option on the adopted fd as decided
 * (docs/socket-options.md), against the same calls on a native v4-mapped
 * socket (bound on port 0, never adopted) as the kernel's control. */
Test(map6, options_after_bind)
{
	static const char *const steps[] = {
		"setopt", "tclass", "32", "getopt", "tclass", "getopt", "tos",
		"setopt", "tclass", "256",
		"setopt", "unicast_hops", "9", "getopt", "unicast_hops", "getopt", "ttl",
		"setopt", "mtu_discover6", "2", "getopt", "mtu_discover6", "getopt", "mtu_discover",
		"getopt", "v6only", "setopt", "v6only", "1", "setopt", "v6only", "0",
		"setopt", "recvtclass", "1", "getopt", "recvtclass",
		"getopt", "domain", "setopt", "mcast_if6", "0",
	};
	struct args a = { .n = 0 };
	struct run r;

	args_add(&a, "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind", "tcp:[" LO6 "]:{port0}", "bind",
		 "tcp:[" LO6 "]:0", "use", "0");
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		args_add(&a, steps[i]);
	args_add(&a, "use", "1");
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		args_add(&a, steps[i]);
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	int fa = (int)kv_num(line_find(r.o, "bound", 0), "fd"), fn = (int)kv_num(line_find(r.o, "bound", 1), "fd");
	cr_assert_neq(kv_num(line_find(r.o, "bound", 1), "ino"), act_value(&r, 0, "ino"), "%s", r.o);

	for (int k = 0; k < 2; k++) {
		int fd = k ? fn : fa;
		/* the same on both: what the program reads of its own settings */
		expect_set(&r, fd, "tclass", 2 * k, "none");
		expect_get(&r, fd, "tclass", k, 32);
		expect_set(&r, fd, "tclass", 2 * k + 1, "EINVAL");     /* out of range */
		expect_set(&r, fd, "unicast_hops", k, "none");
		expect_get(&r, fd, "unicast_hops", k, 9);
		expect_set(&r, fd, "mtu_discover6", k, "none");
		expect_get(&r, fd, "mtu_discover6", k, 2);
		expect_get(&r, fd, "v6only", k, 0);
		expect_set(&r, fd, "v6only", 2 * k, "EINVAL");         /* bound: fixed */
		expect_set(&r, fd, "recvtclass", k, "none");
		expect_get(&r, fd, "domain", k, AF_INET6);
	}
	/* decided: the IPv4 twin carries it, on the IPv4 socket */
	expect_get(&r, fa, "tos", 0, 32);
	expect_get(&r, fa, "ttl", 0, 9);
	expect_get(&r, fa, "mtu_discover", 0, 2);
	/* the kernel's v4-mapped socket: IPV6_TCLASS leaves IPv4's TOS alone */
	expect_get(&r, fn, "tos", 1, 0);
	/* decided: V6ONLY=0 is what the socket is (the kernel says EINVAL, bound) */
	expect_set(&r, fa, "v6only", 1, "none");
	expect_set(&r, fn, "v6only", 3, "EINVAL");
	/* decided: IPV6_RECVTCLASS does nothing (no IPv4 packet has a traffic class
	 * message) and reads 0 */
	expect_get(&r, fa, "recvtclass", 0, 0);
	expect_get(&r, fn, "recvtclass", 1, 1);
	/* not in the table: the kernel's answer for a TCP socket, ENOPROTOOPT */
	expect_set(&r, fa, "mcast_if6", 0, "ENOPROTOOPT");
	expect_set(&r, fn, "mcast_if6", 1, "ENOPROTOOPT");
}

/* Options set before bind on the AF_INET6 socket go to the IPv4 socket as
 * their IPv4 twins, with a debug line each and no warning (V6ONLY=0, the
 * JVM's, is simply what a v4-mapped socket is). */
Test(map6, options_before_bind)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind",
		  "tcp:[" LO6 "]:{port0},v6only=0,reuseaddr=1,tclass=40,mtu_discover6=2,nodelay=1", "getopt", "tos",
		  "getopt", "tclass", "getopt", "mtu_discover", "getopt", "nodelay");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	int fd = (int)kv_num(line_find(r.o, "bound", 0), "fd");
	expect_get(&r, fd, "tos", 0, 40);
	expect_get(&r, fd, "tclass", 0, 40);
	expect_get(&r, fd, "mtu_discover", 0, 2);
	expect_get(&r, fd, "nodelay", 0, 1);
	cr_expect_not_null(line_find_sub(r.e, "carried IPV6_TCLASS=40 over to the inherited IPv4 socket as IP_TOS", 0),
			   "%s", r.e);
	cr_expect_not_null(line_find_sub(r.e, "carried IPV6_MTU_DISCOVER=2 over to the inherited IPv4 socket as "
					      "IP_MTU_DISCOVER", 0), "%s", r.e);
	cr_expect_eq(line_count_sub(r.e, "sdadopt: warning:"), 0, "%s", r.e);
	cr_expect_null(line_find_sub(r.e, "V6ONLY", 0), "%s", r.e);
	expect_log(&r, "exact");
}

/* IPV6_RECVPKTINFO (set before bind, and after it): recvmsg() shows the
 * IPV6_PKTINFO a v4-mapped socket gives (interface, ::ffff:127.0.0.1);
 * sendmsg() with that IPV6_PKTINFO answers from it.  Control buffers of
 * 40 bytes (CMSG_SPACE of an in6_pktinfo), 39 (the padding cut: no
 * MSG_CTRUNC) and 30 (cut: MSG_CTRUNC, as the kernel cuts). */
Test(map6, udp_pktinfo)
{
	char v[128];
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "udp:127.0.0.1:0", "--", SERVER, "bind",
		  "udp:[" LO6 "]:{port0},recvpktinfo=1", "recvmsg-pktinfo", "setopt", "recvpktinfo", "0",
		  "recvmsg-pktinfo", "setopt", "recvpktinfo", "1", "getopt", "recvpktinfo", "ctllen", "40",
		  "recvmsg-pktinfo", "ctllen", "39", "recvmsg-pktinfo", "ctllen", "30", "recvmsg-pktinfo");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	unsigned port = (unsigned)act_value(&r, 0, "port");
	unsigned cport[5];
	for (int i = 0; i < 5; i++) {
		/* each datagram after the option it tests is set: one queued
		 * before IP_PKTINFO is on carries no (or an empty) message */
		if (i == 0)
			cr_assert_not_null(run_wait(&r, "bound", 0), "%s", r.o);
		else if (i <= 2)
			cr_assert_not_null(run_wait(&r, "optset", i - 1), "%s", r.o);
		cport[i] = expect_echo(fmt("udp:127.0.0.1:%u", port), fmt("pkt%d", i));
	}
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	expect_get(&r, (int)kv_num(line_find(r.o, "bound", 0), "fd"), "recvpktinfo", 0, 1);
	static const struct {
		const char *level;
		long long ctllen, cmsglen, trunc;
	} want[5] = {
		{ "ipv6", 40, 36, 0 }, { "none", 0, 0, 0 }, { "ipv6", 40, 36, 0 }, { "ipv6", 39, 36, 0 },
		{ "ipv6", 30, 30, 1 },
	};
	for (int i = 0; i < 5; i++) {
		const char *l = line_find(r.o, "pktinfo", i);
		cr_assert_not_null(l, "%s", r.o);
		int n = (int)strcspn(l, "\n");
		cr_expect_str_eq(kv_str(l, "level", v, sizeof v), want[i].level, "#%d: %.*s", i, n, l);
		cr_expect_eq(kv_num(l, "trunc"), want[i].trunc, "#%d: %.*s", i, n, l);
		cr_expect_eq(kv_num(l, "intact"), 1, "#%d: written past the control buffer: %.*s", i, n, l);
		cr_expect_str_eq(kv_str(l, "sender", v, sizeof v), fmt("[" LO6 "]:%u", cport[i]), "#%d: %.*s", i, n, l);
		cr_expect_eq(kv_num(l, "ctllen"), want[i].ctllen, "#%d: %.*s", i, n, l);
		if (want[i].cmsglen)
			cr_expect_eq(kv_num(l, "cmsglen"), want[i].cmsglen, "#%d: %.*s", i, n, l);
		if (i != 1 && i != 4) {
			cr_expect_str_eq(kv_str(l, "type", v, sizeof v), "pktinfo", "#%d: %.*s", i, n, l);
			cr_expect_str_eq(kv_str(l, "dst", v, sizeof v), "[" LO6 "]:0", "#%d: %.*s", i, n, l);
			cr_expect_gt(kv_num(l, "ifindex"), 0, "#%d: %.*s", i, n, l);
		}
	}
	for (int i = 0; i < 5; i++) {
		const char *l = line_find(r.o, "sent", i);
		cr_assert_not_null(l, "%s", r.o);
		cr_expect_gt(kv_num(l, "rc"), 0, "#%d: sendmsg failed: %.*s", i, (int)strcspn(l, "\n"), l);
	}
}

/* The control: the same on a native v4-mapped socket (port 0, not
 * adopted) shows the same messages: the shim's are the kernel's. */
Test(map6, udp_pktinfo_native_control)
{
	char v[128];
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "udp:127.0.0.1:0", "--", SERVER, "bind", "udp:[" LO6 "]:0,recvpktinfo=1",
		  "name", "ctllen", "40", "recvmsg-pktinfo", "ctllen", "39", "recvmsg-pktinfo", "ctllen", "30",
		  "recvmsg-pktinfo");
	const char *nl = run_wait(&r, "sockname", 0);
	cr_assert_not_null(nl, "%s", r.o);
	char addr[128];
	kv_str(nl, "addr", addr, sizeof addr);
	unsigned port = (unsigned)atoi(strrchr(addr, ':') + 1);
	static const long long ctl[3] = { 40, 39, 30 }, cm[3] = { 36, 36, 30 }, tr[3] = { 0, 0, 1 };
	for (int i = 0; i < 3; i++)
		expect_echo(fmt("udp:127.0.0.1:%u", port), fmt("native%d", i));
	cr_assert_eq(run_finish(&r), 0);
	expect_not_adopted(&r, 0);
	for (int i = 0; i < 3; i++) {
		const char *l = line_find(r.o, "pktinfo", i);
		cr_assert_not_null(l, "%s", r.o);
		int n = (int)strcspn(l, "\n");
		cr_expect_str_eq(kv_str(l, "level", v, sizeof v), "ipv6", "%.*s", n, l);
		cr_expect_eq(kv_num(l, "ctllen"), ctl[i], "%.*s", n, l);
		cr_expect_eq(kv_num(l, "cmsglen"), cm[i], "%.*s", n, l);
		cr_expect_eq(kv_num(l, "trunc"), tr[i], "%.*s", n, l);
	}
}

Test(map6, udp_pktinfo_control_without_shim)
{
	control_without_shim("udp:127.0.0.1:0", "udp:[" LO6 "]:{port0},recvpktinfo=1", "EADDRINUSE");
}

/* ---- the docs ----------------------------------------------------------------- */

/* docs/socket-options.md has one row "| DECISION | `NAME` | ..." per option
 * of core/map6.c, with the decision the code makes, and no other such row. */
Test(map6, doc_matches_table)
{
	static char doc[1 << 17];
	FILE *f = fopen(SDA_SOCKOPT_DOC, "re");
	char act[32], name[64];
	int rows = 0;

	cr_assert_not_null(f, "%s", SDA_SOCKOPT_DOC);
	doc[fread(doc, 1, sizeof doc - 1, f)] = 0;
	fclose(f);
	for (size_t i = 0; i < sda_n_map6_opts; i++) {
		const struct sda_map6_opt *o = &sda_map6_opts[i];
		const char *row = strstr(doc, fmt("| %s | `%s` |", sda_map6_act_name(o->act), o->text));
		cr_expect_not_null(row, "%s (%s) has no row \"| %s | `%s` |\" in %s", o->text, sda_map6_act_name(o->act),
				   sda_map6_act_name(o->act), o->text, SDA_SOCKOPT_DOC);
		if (o->v4text && row)
			cr_expect(strstr(row, o->v4text) && strstr(row, o->v4text) < strchr(row, '\n'),
				  "the row of %s does not name %s", o->text, o->v4text);
	}
	for (const char *l = doc; (l = strstr(l, "\n| ")); l++) {
		if (sscanf(l, "\n| %31[a-z0-9] | `%63[^`]` |", act, name) != 2 || strncmp(name, "IPV6_", 5))
			continue;
		const struct sda_map6_opt *o = NULL;
		for (size_t i = 0; i < sda_n_map6_opts; i++)
			if (!strcmp(sda_map6_opts[i].text, name))
				o = &sda_map6_opts[i];
		cr_expect_not_null(o, "the doc has a row for %s, which core/map6.c does not decide", name);
		if (o)
			cr_expect_str_eq(act, sda_map6_act_name(o->act), "%s", name);
		rows++;
	}
	cr_expect_eq(rows, (int)sda_n_map6_opts, "the doc has %d rows, core/map6.c %zu options", rows,
		     sda_n_map6_opts);
}
