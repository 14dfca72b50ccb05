/* SPDX-License-Identifier: MIT */
/* What servers do around their sockets: rebind, daemonize, dup2, unlink,
 * SO_REUSEPORT workers, threads. */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TCP "tcp:127.0.0.1:0"
#define BIND0 "tcp:127.0.0.1:{port0}"

TestSuite(lifecycle, .timeout = TEST_BACKSTOP_S);

/* A server that reloads: close() of the adopted fd and bind() again, three
 * times, answering a client in each cycle: the same socket every time. */
Test(lifecycle, close_and_rebind)
{
	enum { CYCLES = 3 };
	struct args a = { .n = 0 };
	struct run r;

	args_add(&a, "--listen", TCP, "--", SERVER);
	for (int i = 0; i < CYCLES; i++)
		args_add(&a, "bind", BIND0, "listen", "5", "serve", "close");
	run_start_args(&r, WITH_SHIM, &a);
	cr_assert_not_null(run_wait(&r, "socket", 0));
	for (int i = 0; i < CYCLES; i++) {
		expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(&r, 0, "port")), fmt("cycle%d", i));
		/* the next client comes after this cycle's close */
		cr_assert_not_null(run_wait(&r, "closed", i), "%s", r.o);
	}
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count(r.o, "bound"), CYCLES, "%s", r.o);
	for (int i = 0; i < CYCLES; i++)
		expect_adopted(&r, i, 0);
	cr_assert_eq(line_count(r.o, "served"), CYCLES, "%s", r.o);
	cr_expect_eq(line_count_sub(r.o, "closed fd="), CYCLES, "%s", r.o);
	cr_expect_eq(line_count_sub(r.o, " rc=0"), CYCLES, "%s", r.o);
	cr_expect_eq(line_count_sub(r.e, "info: adopted"), CYCLES, "%s", r.e);
}

Test(lifecycle, close_and_rebind_control)
{
	struct run r;

	run_start(&r, NO_SHIM, "--listen", TCP, "--", SERVER, "bind", BIND0, "close", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count_sub(r.o, "bind-error err=EADDRINUSE"), 2, "%s", r.o);
}

/* A classic daemon: double fork, close every fd >= 3, then bind. */
static void daemon_binds(int shim, const char *method)
{
	struct run r;

	run_start(&r, shim, "--listen", TCP, "--", SERVER, "daemon", method, "bind", BIND0, "listen", "5",
		  shim ? "serve" : "name");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	if (shim)
		expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(&r, 0, "port")), method);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find(r.o, "daemon", 0), "%s", r.o);
	cr_assert_not_null(line_find(r.o, "done", 0), "the daemon did not finish: %s", r.o);
	if (shim)
		expect_adopted(&r, 0, 0);
	else
		expect_not_adopted(&r, 0);
}

Test(lifecycle, daemon_close_loop) { daemon_binds(WITH_SHIM, "loop"); }
Test(lifecycle, daemon_close_range) { daemon_binds(WITH_SHIM, "close_range"); }
Test(lifecycle, daemon_closefrom) { daemon_binds(WITH_SHIM, "closefrom"); }
Test(lifecycle, daemon_control) { daemon_binds(NO_SHIM, "close_range"); }

/* dup2()/dup3() onto the registry's fd 3 does what the app asked (fd 3 is
 * now /dev/null) and the inherited socket survives elsewhere. */
static void dup_onto_registry(const char *how)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", TCP, "--", SERVER, how, "3", "bind", BIND0, "listen", "5", "serve");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(&r, 0, "port")), how);
	cr_assert_eq(run_finish(&r), 0);
	const char *d = line_find(r.o, "dup2", 0);
	cr_assert_not_null(d, "%s", r.o);
	cr_expect_eq(kv_num(d, "rc"), 3, "%s", r.o);
	cr_expect_eq(kv_num(d, "chr"), 1, "fd 3 is not /dev/null after %s: %s", how, r.o);
	expect_adopted(&r, 0, 0);
}

Test(lifecycle, dup2_onto_registry_fd) { dup_onto_registry("dup2"); }
Test(lifecycle, dup3_onto_registry_fd) { dup_onto_registry("dup3"); }

Test(lifecycle, dup2_control)
{
	struct run r;

	run_start(&r, NO_SHIM, "--listen", TCP, "--", SERVER, "dup2", "3", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
}

/* A daemon that sweeps its fds as varnish's child does: close 3..N, put
 * /dev/null on every number that was open, then insist that the next ten
 * close() fail with EBADF.  The shim's own fds (the registry's copies, the
 * log's) move far up when the program closes or dup2()s over them, so the
 * sweep passes them once and the check finds nothing; the bind after it
 * still adopts. */
Test(lifecycle, sweep_then_bind)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--listen", TCP, "--listen",
		  "udp:127.0.0.1:0", "--", SERVER, "sweep", "40", "bind", BIND0, "fds");
	cr_assert_eq(run_finish(&r), 0);
	cr_expect_not_null(line_find_sub(r.o, "sweep upto=40 ", 0), "%s", r.o);
	cr_expect_eq(kv_num(line_find(r.o, "sweep", 0), "ebadf"), 10, "%s\n%s", r.o, r.e);
	expect_adopted(&r, 0, 0);
	cr_expect_not_null(line_find_sub(r.e, "moved inherited fd 3 to ", 0), "%s", r.e);
	cr_expect_eq(line_count_sub(r.e, "cannot move"), 0, "%s", r.e);
}

Test(lifecycle, sweep_control)
{
	struct run r;

	run_start(&r, NO_SHIM, "--listen", TCP, "--", SERVER, "sweep", "40", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	cr_expect_eq(kv_num(line_find(r.o, "sweep", 0), "ebadf"), 10, "%s", r.o);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
}

/* The server removes its socket path before bind and at exit; the path is
 * systemd's, so it stays, and the next run of the server adopts again. */
static void unlink_guard(const char *how)
{
	char dir[64], path[128];
	struct stat st;
	struct run r;

	tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/guard.sock", dir);
	run_start(&r, WITH_SHIM, "--runs", "2", "--listen", fmt("unix:%s", path), "--", SERVER,
		  how, path, "bind", fmt("unix:%s", path), "listen", "5", "serve", how, path);
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt("unix:%s", path), "first run");
	expect_echo(fmt("unix:%s", path), "second run");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	expect_adopted(&r, 1, 0);
	cr_expect_eq(line_count_sub(r.o, "unlinked"), 4, "%s", r.o);
	cr_expect_eq(line_count_sub(r.o, " rc=0 "), 4, "%s() of the inherited path should return 0: %s", how, r.o);
	cr_assert_eq(stat(path, &st), 0, "the socket file is gone: %s", strerror(errno));
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq((long long)st.st_ino, act_value(&r, 0, "pathino"), "the socket file was replaced");
}

Test(lifecycle, unlink_guard) { unlink_guard("unlink"); }
Test(lifecycle, unlinkat_guard) { unlink_guard("unlinkat"); }
Test(lifecycle, remove_guard) { unlink_guard("remove"); }

Test(lifecycle, unlink_guard_control)
{
	char dir[64], path[128];
	struct stat st;
	struct run r;

	tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/guard.sock", dir);
	run_start(&r, NO_SHIM, "--listen", fmt("unix:%s", path), "--", SERVER, "unlink", path, "bind",
		  fmt("unix:%s", path), "unlink", path);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count(r.o, "bound"), 1, "%s", r.o);
	expect_not_adopted(&r, 0);
	cr_assert_neq(stat(path, &st), 0, "the path survived a real unlink");
}

/* Only the inherited socket's own path is protected. */
Test(lifecycle, unlink_other_path_works)
{
	char dir[64], mine[128], other[128];
	struct stat st;
	struct run r;

	tmpdir(dir, sizeof dir);
	snprintf(mine, sizeof mine, "%s/a.sock", dir);
	snprintf(other, sizeof other, "%s/other.sock", dir);
	run_start(&r, WITH_SHIM, "--listen", fmt("unix:%s", mine), "--", SERVER, "bind", fmt("unix:%s", other),
		  "unlink", other, "unlink", mine);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count_sub(r.o, "unlinked"), 2, "%s", r.o);
	cr_assert_eq(line_count_sub(r.o, " rc=0 "), 2, "%s", r.o);
	cr_expect_neq(stat(other, &st), 0, "an unrelated path was not removed");
	cr_expect_eq(stat(mine, &st), 0, "the inherited socket's path was removed");
}

/* SO_REUSEPORT workers: each bind of the one address gets the socket. */
Test(lifecycle, reuseport_binds)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", TCP, "--", SERVER, "reuseport", "bind", BIND0, "listen", "5",
		  "reuseport", "bind", BIND0, "listen", "5", "reuseport", "bind", BIND0, "listen", "5");
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(line_count(r.o, "bound"), 3, "%s", r.o);
	for (int i = 0; i < 3; i++)
		expect_adopted(&r, i, 0);
	long long fd0 = kv_num(line_find(r.o, "bound", 0), "fd");
	long long fd1 = kv_num(line_find(r.o, "bound", 1), "fd");
	long long fd2 = kv_num(line_find(r.o, "bound", 2), "fd");
	cr_expect(fd0 != fd1 && fd1 != fd2 && fd0 != fd2, "%s", r.o);
	cr_expect_eq(line_count(r.o, "listened"), 3, "%s", r.o);
}

Test(lifecycle, reuseport_control)
{
	struct run r;

	run_start(&r, NO_SHIM, "--listen", TCP, "--", SERVER, "reuseport", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
}

/* Prefork servers that bind after fork: N workers each create their own
 * socket and bind the activated address (with SO_REUSEPORT each, when
 * `reuseport`); every worker gets the one socket and accepts on it.  With
 * three clients and three workers that each serve one, every worker must
 * have accepted. */
static void prefork(struct run *r, int shim, int reuseport)
{
	enum { N = 3 };
	struct args a = { .n = 0 };
	int seen[N] = { 0 };

	args_add(&a, "--listen", TCP, "--", SERVER, "workers", "3");
	if (reuseport)
		args_add(&a, "reuseport");
	args_add(&a, "bind", BIND0, "listen", "5", shim ? "serve" : "name");
	run_start_args(r, shim, &a);
	cr_assert_not_null(run_wait(r, "socket", 0));
	for (int i = 0; shim && i < N; i++)
		expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(r, 0, "port")), fmt("client%d", i));
	cr_assert_eq(run_finish(r), 0);
	cr_assert_not_null(line_find_sub(r->o, "workers-end n=3 ok=3", 0), "%s", r->o);
	if (!shim) {
		cr_assert_eq(line_count_sub(r->o, "bind-error err=EADDRINUSE"), N, "%s", r->o);
		return;
	}
	cr_assert_eq(line_count(r->o, "bound"), N, "%s", r->o);
	for (int i = 0; i < N; i++) {
		expect_adopted(r, i, 0);
		long long w = kv_num(line_find(r->o, "served", i), "worker");
		cr_assert(w >= 0 && w < N, "served #%d: %s", i, r->o);
		seen[w]++;
	}
	for (int w = 0; w < N; w++)
		cr_expect_eq(seen[w], 1, "worker %d served %d clients: %s", w, seen[w], r->o);
	cr_expect_eq(line_count_sub(r->e, "info: adopted"), N, "%s", r->e);
	/* the master never bound: its exit report reads the workers' adoptions
	 * (a shared page) and says nothing */
	cr_expect_eq(line_count_sub(r->e, "was adopted"), 0, "%s", r->e);
	cr_expect_eq(line_count_sub(r->e, "never adopted"), 0, "%s", r->e);
}

Test(lifecycle, prefork_workers_bind_after_fork)
{
	struct run r;
	prefork(&r, WITH_SHIM, 0);
}

Test(lifecycle, prefork_reuseport_workers)
{
	struct run r;
	prefork(&r, WITH_SHIM, 1);
}

Test(lifecycle, prefork_control)
{
	struct run r;
	prefork(&r, NO_SHIM, 0);
}

Test(lifecycle, prefork_reuseport_control)
{
	struct run r;
	prefork(&r, NO_SHIM, 1);
}

/* The master of such a server never binds, its workers adopt the socket:
 * the master's exit report must not call the socket never adopted (the
 * adoption counts are shared with forked workers). */
Test(lifecycle, prefork_master_reports_nothing)
{
	struct run r;

	prefork(&r, WITH_SHIM, 0);
	cr_expect_eq(line_count_sub(r.e, "sdadopt: warning:"), 0, "%s", r.e);
	cr_expect_eq(line_count_sub(r.e, "never adopted"), 0, "%s", r.e);
}

/* Eight threads bind eight activated ports at the same moment. */
static void threads_bind(int shim)
{
	enum { N = 8 };
	struct args a = { .n = 0 };
	long long ino[N];
	struct run r;

	for (int i = 0; i < N; i++)
		args_add(&a, "--listen", TCP);
	args_add(&a, "--", SERVER, "threads", "8");
	for (int i = 0; i < N; i++)
		args_add(&a, fmt("tcp:127.0.0.1:{port%d}", i));
	run_start_args(&r, shim, &a);
	cr_assert_eq(run_finish(&r), 0);
	int n = bound_inodes(&r, ino, N);
	if (!shim) {
		cr_assert_eq(n, 0, "%s", r.o);
		return;
	}
	cr_assert_eq(n, N, "%s", r.o);
	for (int s = 0; s < N; s++) {
		int hits = 0;
		for (int i = 0; i < n; i++)
			hits += ino[i] == act_value(&r, s, "ino");
		cr_expect_eq(hits, 1, "socket %d adopted %d times: %s", s, hits, r.o);
	}
}

Test(lifecycle, threads_bind_at_once) { threads_bind(WITH_SHIM); }
Test(lifecycle, threads_control) { threads_bind(NO_SHIM); }
