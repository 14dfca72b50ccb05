/* SPDX-License-Identifier: MIT */
/* Adoption per family and socket type, address matching, flags, backlog. */
#include "harness.h"

#define BIND0_TCP "tcp:127.0.0.1:{port0}"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The activator listens on `listen`; the server binds `bind` (with {port0};
 * NULL: the same as listen) and serves one client, who reaches it through
 * `client` ("%u": the port; NULL: the same as bind). */
static void adopt_and_echo(const char *listen, const char *bind, const char *client, int stream)
{
	struct args a = { .n = 0 };
	struct run r;

	bind = bind ? bind : listen;
	client = client ? client : bind;
	args_add(&a, "--listen", listen, "--", SERVER, "bind", bind);
	if (stream)
		args_add(&a, "listen", "5");
	args_add(&a, "serve");
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt(client, (unsigned)act_value(&r, 0, "port")), "ping");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_assert_eq(line_count(r.o, "served"), 1);
	if (stream)
		cr_assert_not_null(line_find(r.o, "listened", 0), "%s", r.o);
}

/* Negative control: the same server without the shim cannot have it. */
static void control_without_shim(const char *listen, const char *bind)
{
	struct run r;

	run_start(&r, NO_SHIM, "--listen", listen, "--", SERVER, "bind", bind ? bind : listen);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
	expect_not_adopted(&r, 0);
}

static const char *abstract_name(const char *kind, const char *tag)
{
	return fmt("%s:@sdadopt-test-%s-%ld", kind, tag, (long)getpid());
}

static const char *unix_path(const char *kind, const char *file)
{
	static char dir[64];
	tmpdir(dir, sizeof dir);
	return fmt("%s:%s/%s", kind, dir, file);
}

/* ADOPTS(SUITE, NAME, STREAM, LISTEN, BIND, CLIENT): two tests.  SUITE/NAME:
 * the server's bind(BIND) under an activated LISTEN is adopted and serves a
 * client through CLIENT (adopt_and_echo; STREAM: it listens first).
 * SUITE/NAME_control, the negative control: without the shim the same bind
 * fails (control_without_shim).  LISTEN is evaluated once in each. */
#define ADOPTS(suite, name, stream, listen, bind, client)                                      \
	Test(suite, name) { adopt_and_echo((listen), (bind), (client), (stream)); }            \
	Test(suite, name##_control) { control_without_shim((listen), (bind)); }

TestSuite(family, .timeout = TEST_BACKSTOP_S);

ADOPTS(family, tcp4, 1, "tcp:127.0.0.1:0", "tcp:127.0.0.1:{port0}", "tcp:127.0.0.1:%u")
ADOPTS(family, tcp6, 1, "tcp:[::1]:0", "tcp:[::1]:{port0}", "tcp:[::1]:%u")
ADOPTS(family, udp4, 0, "udp:127.0.0.1:0", "udp:127.0.0.1:{port0}", "udp:127.0.0.1:%u")
ADOPTS(family, udp6, 0, "udp:[::1]:0", "udp:[::1]:{port0}", "udp:[::1]:%u")
/* unix sockets: the server binds the activated path (or name) itself */
ADOPTS(family, unix_stream, 1, unix_path("unix", "stream.sock"), NULL, NULL)
ADOPTS(family, unix_dgram, 0, unix_path("unix-dgram", "dgram.sock"), NULL, NULL)
ADOPTS(family, unix_seqpacket, 1, unix_path("unix-seqpacket", "seq.sock"), NULL, NULL)
ADOPTS(family, unix_abstract, 1, abstract_name("unix", "abs"), NULL, NULL)
ADOPTS(family, unix_abstract_dgram, 0, abstract_name("unix-dgram", "absdg"), NULL, NULL)

/* The same socket file under a relative name is the same socket. */
Test(family, unix_relative_path)
{
	char dir[64];
	struct run r;

	tmpdir(dir, sizeof dir);
	run_start(&r, WITH_SHIM, "--listen", fmt("unix:%s/rel.sock", dir), "--", SERVER, "chdir", dir, "bind",
		  "unix:rel.sock", "listen", "5", "serve");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt("unix:%s/rel.sock", dir), "relative");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
}

/* ---- matching beyond exact ---------------------------------------------- */

TestSuite(match, .timeout = TEST_BACKSTOP_S);

ADOPTS(match, wildcard_v4, 1, "tcp:0.0.0.0:0", "tcp:127.0.0.1:{port0}", "tcp:127.0.0.1:%u")
ADOPTS(match, wildcard_v6, 1, "tcp:[::]:0,v6only=1", "tcp:[::1]:{port0}", "tcp:[::1]:%u")
ADOPTS(match, wildcard_udp_v4, 0, "udp:0.0.0.0:0", "udp:127.0.0.1:{port0}", "udp:127.0.0.1:%u")

/* ListenStream=PORT, an AF_INET server on a dual-stack [::] socket, and
 * the addresses it sees there: test_dualstack.c. */

/* A V6ONLY [::] socket does not serve AF_INET: the server binds natively. */
Test(match, v6only_not_dual_stack)
{
	struct run r;

	/* The activator reserves the port on [::] only: another test may bind
	 * 127.0.0.1 on that port number first (EADDRINUSE from a neighbour, not
	 * the shim: then again with a fresh port, a few times). */
	for (int try = 0; try < 8; try++) {
		run_start(&r, WITH_SHIM, "--listen", "tcp:[::]:0,v6only=1", "--", SERVER, "bind",
			  "tcp:127.0.0.1:{port0}", "listen", "5", "bind", "tcp:[::]:{port0}");
		cr_assert_eq(run_finish(&r), 0);
		if (!line_find_sub(r.o, "bind-error err=EADDRINUSE", 0))
			break;  /* a shim that fails this bind fails all 8 tries */
	}
	cr_assert_eq(line_count(r.o, "bound"), 2, "%s", r.o);
	cr_expect_neq(kv_num(line_find(r.o, "bound", 0), "ino"), act_value(&r, 0, "ino"), "%s", r.o);
	expect_adopted(&r, 1, 0);
}

/* A bind of another port, of port 0 and of another socket type on the
 * activated port are the kernel's business; the activated address itself,
 * bound last in the same run, is still adopted. */
Test(match, unmatched_untouched)
{
	struct run r;
	unsigned other = free_port(AF_INET);
	char addr[128];

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--listen", "tcp:127.0.0.1:0", "--", SERVER,
		  "bind", fmt("tcp:127.0.0.1:%u", other), "name", "listen", "5",
		  "bind", "tcp:127.0.0.1:0", "name", "listen", "5",
		  "bind", "udp:127.0.0.1:{port0}", "name", "bind", BIND0_TCP);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count(r.o, "bound"), 4, "%s", r.o);
	expect_adopted(&r, 3, 0);
	for (int i = 0; i < 3; i++)
		cr_expect_neq(kv_num(line_find(r.o, "bound", i), "ino"), act_value(&r, 0, "ino"), "bind #%d: %s", i, r.o);
	unsigned port = (unsigned)act_value(&r, 0, "port");
	cr_expect(strstr(kv_str(line_find(r.o, "sockname", 0), "addr", addr, sizeof addr), fmt(":%u", other)));
	kv_str(line_find(r.o, "sockname", 1), "addr", addr, sizeof addr);
	cr_expect(!strstr(addr, fmt(":%u", port)) && !strstr(addr, ":0"), "port 0 bind got %s", addr);
	cr_expect_eq(line_count(r.o, "listened"), 2, "%s", r.o);
	cr_expect_eq(line_count_sub(r.e, "info: adopted"), 1, "%s", r.e);
}

Test(match, unmatched_unix_path)
{
	struct run r;
	char dir[64];

	tmpdir(dir, sizeof dir);
	run_start(&r, WITH_SHIM, "--listen", fmt("unix:%s/a.sock", dir), "--", SERVER,
		  "bind", fmt("unix:%s/b.sock", dir), "bind", fmt("unix-dgram:%s/a2.sock", dir),
		  "bind", fmt("unix:%s/a.sock", dir));
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count(r.o, "bound"), 3, "%s", r.o);
	expect_adopted(&r, 2, 0);
	for (int i = 0; i < 2; i++)
		cr_expect_neq(kv_num(line_find(r.o, "bound", i), "ino"), act_value(&r, 0, "ino"), "bind #%d: %s", i, r.o);
}

/* ---- what the app asked for is what the app gets ------------------------ */

TestSuite(flags, .timeout = TEST_BACKSTOP_S);

/* The activator's socket gets the opposite O_NONBLOCK, so a shim that hands
 * over the inherited description unchanged fails either way. */
static void flags_kept(int nonblock, int cloexec)
{
	struct args a = { .n = 0 };
	struct run r;
	char want[64];

	if (!nonblock)
		args_add(&a, "--nonblock");
	args_add(&a, "--listen", "tcp:127.0.0.1:0", "--", SERVER);
	if (nonblock)
		args_add(&a, "nonblock");
	if (cloexec)
		args_add(&a, "cloexec");
	args_add(&a, "bind", "tcp:127.0.0.1:{port0}", "flags", "listen", "5", "flags");
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	snprintf(want, sizeof want, "cloexec=%d nonblock=%d", cloexec, nonblock);
	for (int i = 0; i < 2; i++) {
		const char *l = line_find(r.o, "flags", i);
		char line[256];

		cr_assert_not_null(l, "%s", r.o);
		/* lines are not NUL-terminated: search this one only */
		snprintf(line, sizeof line, "%.*s", (int)strcspn(l, "\n"), l);
		cr_expect(strstr(line, want), "flags #%d: want %s, got: %s", i, want, line);
	}
}

Test(flags, blocking_inheritable) { flags_kept(0, 0); }
Test(flags, blocking_cloexec) { flags_kept(0, 1); }
Test(flags, nonblock_inheritable) { flags_kept(1, 0); }
Test(flags, nonblock_cloexec) { flags_kept(1, 1); }

/* ---- listen() keeps the activator's backlog ----------------------------- */

TestSuite(backlog, .timeout = TEST_BACKSTOP_S);

/* fill: the program's own fds take every number below it first, so that
 * its socket is flagged in the fd table's second tier (fdtab.h) */
static void keeps_backlog(const char *fill)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--backlog", "128", "--listen", "tcp:127.0.0.1:0", "--", SERVER,
		  "fill", fill, "bind", "tcp:127.0.0.1:{port0}", "listen", "5", "wait");
	cr_assert_not_null(run_wait(&r, "waiting", 0), "%s", r.o);
	cr_assert_geq(kv_num(line_find(r.o, "bound", 0), "fd"), atoi(fill), "%s", r.o);
	unsigned port = (unsigned)act_value(&r, 0, "port");
	long backlog = tcp_listen_backlog(AF_INET, port);
	int connected = connect_many(fmt("tcp:127.0.0.1:%u", port), 20, DEADLINE_MS);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_assert_not_null(line_find(r.o, "listened", 0), "%s", r.o);
	if (backlog == -EPROTONOSUPPORT || backlog == -EACCES || backlog == -EPERM)
		cr_log_warn("sock_diag unavailable (%s); checking connections only", strerror((int)-backlog));
	else
		cr_expect_eq(backlog, 128, "listen backlog after the server's listen(5): %ld", backlog);
	cr_expect_eq(connected, 20, "only %d of 20 connections were queued", connected);
}

Test(backlog, listen5_keeps_128) { keeps_backlog("0"); }
Test(backlog, listen5_keeps_128_on_a_high_fd) { keeps_backlog("300"); }

/* Control: the same measurements see a native listen(5) (port 0 is never
 * adopted), so they would catch a shrunk backlog. */
Test(backlog, control_native_listen5)
{
	struct run r;
	char addr[128];

	run_start(&r, WITH_SHIM, "--listen", "tcp:127.0.0.1:0", "--", SERVER, "bind", "tcp:127.0.0.1:0",
		  "listen", "5", "name", "wait");
	const char *name = run_wait(&r, "sockname", 0);
	cr_assert_not_null(name, "%s", r.o);
	kv_str(name, "addr", addr, sizeof addr);
	unsigned port = (unsigned)atoi(strrchr(addr, ':') + 1);
	long backlog = tcp_listen_backlog(AF_INET, port);
	int connected = connect_many(fmt("tcp:127.0.0.1:%u", port), 20, 1500);
	cr_assert_eq(run_finish(&r), 0);
	expect_not_adopted(&r, 0);
	if (backlog >= 0 || backlog == -ENOENT)
		cr_expect_eq(backlog, 5);
	cr_expect_lt(connected, 20, "a listen(5) socket queued all 20 connections");
}
