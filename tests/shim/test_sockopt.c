/* SPDX-License-Identifier: MIT */
/* Socket options the server set on its own socket before bind(), when that
 * socket is replaced by the inherited one (docs/socket-options.md):
 * REPLAY options are set on the inherited socket, IGNORE ones only concern
 * bind(), UNIT ones keep the activator's value when it set one, FIXED ones
 * cannot change and are reported.  Values are read back in the server with
 * getsockopt() on the adopted fd, which is the inherited socket itself. */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockopt.h"

#define TCP "tcp:127.0.0.1:0"
#define BIND0 "tcp:127.0.0.1:{port0}"
#define WARNING "sdadopt: warning:"

/* What a fresh socket of spec's kind reads back for option `name` (after
 * setting it to `set`, unless set < 0): the kernel's default or its
 * rounding of a value. */
static int kernel_value(const char *spec, const char *name, int set)
{
	const struct spec_sockopt *o = spec_sockopt_find(name);
	struct spec sp;
	int v = -1;
	socklen_t l = sizeof v;

	cr_assert_not_null(o, "%s", name);
	cr_assert_eq(spec_parse(spec, &sp), 0);
	int fd = socket(sp.family, sp.type | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	if (set >= 0)
		cr_assert_eq(setsockopt(fd, o->level, o->opt, &set, sizeof set), 0, "%s: %s", name, strerror(errno));
	cr_assert_eq(getsockopt(fd, o->level, o->opt, &v, &l), 0, "%s: %s", name, strerror(errno));
	close(fd);
	return v;
}

/* The value of the server's first "opt" line for `name`. */
static long long opt_value(const struct run *r, const char *name)
{
	char v[64];

	for (int i = 0; line_find(r->o, "opt", i); i++)
		if (!strcmp(kv_str(line_find(r->o, "opt", i), "name", v, sizeof v), name))
			return kv_num(line_find(r->o, "opt", i), "value");
	cr_assert_fail("no opt line for %s:\n%s", name, r->o);
	return -1;
}

/* What the server's own socket read back after setting `name`. */
static long long set_value(const struct run *r, const char *name)
{
	const char *l = line_find_sub(r->o, fmt("setopt name=%s ", name), 0);

	cr_assert_not_null(l, "%s", r->o);
	return kv_num(l, "got");
}

/* ---- REPLAY ------------------------------------------------------------- */

TestSuite(sockopt, .timeout = TEST_BACKSTOP_S);

/* The server sets `name`=value before binding `bind` onto `listen`; the
 * adopted socket has the value the server's own socket had, which is not
 * the default, and a debug line says it was carried over. */
static void replayed(const char *listen, const char *bind, const char *name, int value)
{
	const struct spec_sockopt *o = spec_sockopt_find(name);
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--listen", listen, "--", SERVER,
		  "bind", fmt("%s,%s=%d", bind, name, value), "getopt", name);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	long long want = set_value(&r, name);
	cr_assert_neq(want, kernel_value(listen, name, -1), "%s=%d is the default: the test proves nothing", name,
		      value);
	cr_expect_eq(opt_value(&r, name), want, "%s on the adopted socket: %s", o->kernel, r.o);
	cr_expect_not_null(line_find_sub(r.e, fmt("carried %s=%lld over", o->kernel, want), 0), "%s", r.e);
	cr_expect_eq(line_count_sub(r.e, WARNING), 0, "%s", r.e);
}

Test(sockopt, replay_tcp_nodelay) { replayed(TCP, BIND0, "nodelay", 1); }
Test(sockopt, replay_so_keepalive) { replayed(TCP, BIND0, "keepalive", 1); }
Test(sockopt, replay_tcp_defer_accept) { replayed(TCP, BIND0, "defer_accept", 5); }
Test(sockopt, replay_tcp_fastopen) { replayed(TCP, BIND0, "fastopen", 16); }
Test(sockopt, replay_tcp_keepidle) { replayed(TCP, BIND0, "keepidle", 60); }
Test(sockopt, replay_ip_pktinfo) { replayed("udp:127.0.0.1:0", "udp:127.0.0.1:{port0}", "pktinfo", 1); }
/* unbound sets IP_PMTUDISC_OMIT on its UDP sockets before bind() */
Test(sockopt, replay_ip_mtu_discover) { replayed("udp:127.0.0.1:0", "udp:127.0.0.1:{port0}", "mtu_discover", 5); }
Test(sockopt, replay_ip_mtu_discover_tcp) { replayed(TCP, BIND0, "mtu_discover", 5); }
/* An IPv4 server on a dual-stack socket: IPv4-level and TCP options alike. */
Test(sockopt, replay_onto_dual_stack_tcp) { replayed("tcp:[::]:0,v6only=0", "tcp:0.0.0.0:{port0}", "nodelay", 1); }
Test(sockopt, replay_onto_dual_stack_udp)
{
	replayed("udp:[::]:0,v6only=0", "udp:0.0.0.0:{port0}", "pktinfo", 1);
}

/* The same for a socket numbered past the fd table's first tier (fdtab.h:
 * SDA_FD_LOW, in the shim's own data). */
Test(sockopt, replay_on_a_high_fd)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--listen", TCP, "--", SERVER, "fill", "300",
		  "bind", BIND0 ",nodelay=1,keepalive=1", "getopt", "nodelay", "getopt", "keepalive");
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_geq(kv_num(line_find(r.o, "bound", 0), "fd"), 300, "%s", r.o);
	expect_adopted(&r, 0, 0);
	cr_expect_eq(opt_value(&r, "nodelay"), 1, "%s", r.o);
	cr_expect_eq(opt_value(&r, "keepalive"), 1, "%s", r.o);
	cr_expect_not_null(line_find_sub(r.e, "carried TCP_NODELAY=1 over", 0), "%s", r.e);
	cr_expect_eq(line_count_sub(r.e, WARNING), 0, "%s", r.e);
}

/* Control: a server that sets nothing finds the defaults on the adopted
 * socket, so the values above came from the replay. */
static void defaults(const char *listen, const char *bind, const char *const *names)
{
	struct args a = { .n = 0 };
	struct run r;

	args_add(&a, "--listen", listen, "--", SERVER, "bind", bind);
	for (int i = 0; names[i]; i++)
		args_add(&a, "getopt", names[i]);
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	for (int i = 0; names[i]; i++)
		cr_expect_eq(opt_value(&r, names[i]), kernel_value(listen, names[i], -1), "%s: %s", names[i], r.o);
}

Test(sockopt, control_tcp_defaults)
{
	static const char *const names[] = { "nodelay", "keepalive", "defer_accept", "fastopen", "keepidle", NULL };
	defaults(TCP, BIND0, names);
}

Test(sockopt, control_udp_defaults)
{
	static const char *const names[] = { "pktinfo", NULL };
	defaults("udp:127.0.0.1:0", "udp:127.0.0.1:{port0}", names);
}

/* ---- IGNORE ------------------------------------------------------------- */

/* SO_REUSEADDR and SO_REUSEPORT only steer bind(): adoption goes on, no
 * warning, a debug line each, and SO_REUSEPORT is not put on the
 * activator's socket. */
Test(sockopt, ignore_reuseaddr_reuseport)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--listen", TCP, "--", SERVER,
		  "bind", BIND0 ",reuseaddr=1,reuseport=1", "getopt", "reuseport", "listen", "5", "serve");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(&r, 0, "port")), "reuse");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_expect_eq(set_value(&r, "reuseport"), 1, "%s", r.o);
	cr_expect_eq(opt_value(&r, "reuseport"), 0, "SO_REUSEPORT was put on the inherited socket: %s", r.o);
	cr_expect_eq(line_count_sub(r.e, WARNING), 0, "%s", r.e);
	long long fd = kv_num(line_find(r.o, "bound", 0), "fd");
	cr_expect_not_null(line_find_sub(r.e, fmt("debug: fd %lld: SO_REUSEADDR only matters to bind()", fd), 0),
			   "%s", r.e);
	cr_expect_not_null(line_find_sub(r.e, fmt("debug: fd %lld: SO_REUSEPORT only matters to bind()", fd), 0),
			   "%s", r.e);
}

/* ---- UNIT --------------------------------------------------------------- */

/* ReceiveBuffer= in the unit: the activator's SO_RCVBUF stays, and exactly
 * one warning names the option and both values. */
Test(sockopt, unit_rcvbuf_kept)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", TCP ",rcvbuf=100000", "--", SERVER, "bind", BIND0 ",rcvbuf=50000",
		  "getopt", "rcvbuf", "listen", "5", "serve");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(&r, 0, "port")), "rcvbuf");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	int unit = kernel_value(TCP, "rcvbuf", 100000), app = (int)set_value(&r, "rcvbuf");
	cr_assert(unit != app && unit != kernel_value(TCP, "rcvbuf", -1) && app != kernel_value(TCP, "rcvbuf", -1),
		  "values not distinct: unit %d app %d", unit, app);
	cr_expect_eq(opt_value(&r, "rcvbuf"), unit, "%s", r.o);
	cr_expect_eq(line_count_sub(r.e, WARNING), 1, "%s", r.e);
	const char *w = line_find_sub(r.e, WARNING, 0);
	cr_assert_not_null(w, "%s", r.e);
	cr_expect(line_find_sub(w, fmt("the program set SO_RCVBUF=%d, the inherited socket has %d", app, unit), 0) == w,
		  "%s", r.e);
	cr_expect(line_find_sub(w, fmt("keeping %d", unit), 0) == w, "%s", r.e);
}

/* No ReceiveBuffer=/SendBuffer= in the unit: the app's value is replayed. */
Test(sockopt, unit_rcvbuf_default_replayed) { replayed(TCP, BIND0, "rcvbuf", 50000); }
Test(sockopt, unit_sndbuf_default_replayed) { replayed(TCP, BIND0, "sndbuf", 50000); }

/* ---- FIXED -------------------------------------------------------------- */

/* "listen [::]:P ipv6only=on" onto ListenStream=P (dual-stack): adopted,
 * the socket stays dual-stack (an IPv4 client is answered, with its IPv4
 * address: CONTRACT.md), one warning names IPV6_V6ONLY. */
Test(sockopt, fixed_v6only)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "tcp:[::]:0,v6only=0", "--", SERVER, "bind", "tcp:[::]:{port0},v6only=1",
		  "getopt", "v6only", "listen", "5", "serve");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(&r, 0, "port")), "v4-still");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_expect_eq(set_value(&r, "v6only"), 1, "%s", r.o);
	cr_expect_eq(opt_value(&r, "v6only"), 0, "%s", r.o);
	cr_expect_eq(line_count_sub(r.e, WARNING), 1, "%s", r.e);
	const char *w = line_find_sub(r.e, WARNING, 0);
	cr_assert_not_null(w, "%s", r.e);
	cr_expect(line_find_sub(w, "the program set IPV6_V6ONLY=1, the inherited socket has 0", 0) == w, "%s", r.e);
	const char *served = line_find(r.o, "served", 0);
	char peer[128];
	cr_assert_not_null(served, "%s", r.o);
	cr_expect(!strncmp(kv_str(served, "peer", peer, sizeof peer), "127.0.0.1:", 10), "%s", r.o);
	cr_expect_not_null(line_find_sub(r.e, "translating addresses to IPv4]", 0), "%s", r.e);
}

/* ---- the documentation -------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	static char buf[1 << 16];
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

/* docs/socket-options.md has one table row per option of core/sockopt.c,
 * "| `NAME` | LEVEL | class | ...", with the class the code gives it, and
 * no row for an option the code does not have. */
Test(sockopt, doc_matches_table)
{
	const char *doc = slurp(SDA_SOCKOPT_DOC);
	char name[64], cls[32];
	int rows = 0;

	for (size_t i = 0; i < sda_n_opts; i++) {
		const char *row = line_find_sub(doc, fmt("| `%s` |", sda_opts[i].text), 0);
		cr_expect_not_null(row, "%s is not in %s", sda_opts[i].text, SDA_SOCKOPT_DOC);
		if (row && sscanf(row, "| `%63[^`]` | %*[^|]| %31[a-z] |", name, cls) == 2)
			cr_expect_str_eq(cls, sda_opt_class_name(sda_opts[i].cls), "%s", sda_opts[i].text);
		else if (row)
			cr_expect_fail("row of %s: %.*s", sda_opts[i].text, (int)strcspn(row, "\n"), row);
	}
	for (const char *l = doc; (l = strstr(l, "\n| `")); l++, rows++) {
		int known = 0;
		cr_assert_eq(sscanf(l, "\n| `%63[^`]`", name), 1);
		for (size_t i = 0; i < sda_n_opts; i++)
			known |= !strcmp(name, sda_opts[i].text);
		cr_expect(known, "the doc has a row for %s, which core/sockopt.c does not handle", name);
	}
	cr_expect_eq(rows, (int)sda_n_opts, "the doc's table has %d rows, the code %zu options", rows, sda_n_opts);
}
