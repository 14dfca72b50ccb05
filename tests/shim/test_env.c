/* SPDX-License-Identifier: MIT */
/* The LISTEN_* protocol: when the shim acts, when it stays inert, and what
 * it leaves behind (environment, fds) for the server and its children. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TCP "tcp:127.0.0.1:0"
#define BIND0 "tcp:127.0.0.1:{port0}"

/* The `fd n=3 ...` line of the server's fds report, or NULL. */
static const char *fd_line(const struct run *r, const char *word, long long ino)
{
	for (int i = 0; line_find(r->o, word, i); i++)
		if (kv_num(line_find(r->o, word, i), "ino") == ino)
			return line_find(r->o, word, i);
	return NULL;
}

TestSuite(inert, .timeout = TEST_BACKSTOP_S);

/* Not activated at all: the shim is loaded and does nothing, silently. */
Test(inert, no_listen_env)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--", SERVER, "loaded", "env", "bind", TCP, "listen", "5", "name", "close", "fds");
	cr_assert_eq(run_finish(&r), 0);
	expect_loaded(&r);
	cr_assert_eq(line_count(r.o, "bound"), 1, "%s", r.o);
	cr_assert_not_null(line_find(r.o, "listened", 0), "%s", r.o);
	cr_assert_eq(r.elen, 0, "stderr should be empty: %s", r.e);
}

Test(inert, no_listen_env_debug)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--", SERVER, "loaded", "bind", TCP, "listen", "5");
	cr_assert_eq(run_finish(&r), 0);
	expect_loaded(&r);
	cr_assert_eq(line_count(r.o, "bound"), 1, "%s", r.o);
	cr_expect_eq(r.elen, 0, "not activated, yet sdadopt spoke: %s", r.e);
}

/* Sockets on fd 3 but no LISTEN_*: not ours to take, not ours to touch. */
Test(inert, fds_without_env)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--no-listen-env", "--listen", TCP, "--", SERVER, "loaded", "fds", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_loaded(&r);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
	const char *l = fd_line(&r, "fd", act_value(&r, 0, "ino"));
	cr_assert_not_null(l, "%s", r.o);
	cr_expect_eq(kv_num(l, "cloexec"), 0, "an fd that was not ours became CLOEXEC: %s", r.o);
	cr_expect_eq(r.elen, 0, "%s", r.e);
}

/* LISTEN_PID names another process: inert, environment left as it was. */
Test(inert, listen_pid_of_other_process)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--pid-other", "--listen", TCP, "--", SERVER, "loaded", "env", "fds", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_loaded(&r);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
	cr_expect_not_null(line_find_sub(r.o, fmt("env LISTEN_PID=%ld", (long)r.pid), 0), "%s", r.o);
	cr_expect_not_null(line_find_sub(r.o, "env LISTEN_FDS=1", 0), "%s", r.o);
	cr_expect_not_null(line_find_sub(r.o, "env LISTEN_FDNAMES=s0", 0), "%s", r.o);
	const char *l = fd_line(&r, "fd", act_value(&r, 0, "ino"));
	cr_assert_not_null(l, "%s", r.o);
	cr_expect_eq(kv_num(l, "cloexec"), 0, "%s", r.o);
	cr_expect_eq(r.elen, 0, "%s", r.e);
}

/* LISTEN_PIDFDID: the right id adopts, another id is someone else's. */
Test(inert, listen_pidfdid_ours)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--pidfdid", "--listen", TCP, "--", SERVER, "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
}

Test(inert, listen_pidfdid_other)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--raw-env", "LISTEN_PIDFDID=1", "--listen", TCP, "--", SERVER, "loaded", "bind",
		  BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_loaded(&r);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
	cr_expect_eq(line_count_sub(r.e, "info: adopted"), 0, "%s", r.e);
}

/* ---- malformed environments --------------------------------------------- */

TestSuite(malformed, .timeout = TEST_BACKSTOP_S);

/* The server still runs and binds natively; sdadopt says exactly one clear
 * warning naming the variable.  `cleared`: LISTEN_PID was ours, so LISTEN_*
 * must be gone from environ (CONTRACT.md). */
static void malformed(const char *raw, const char *var, int cleared)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--raw-env", raw, "--listen", TCP, "--", SERVER, "env", "bind", BIND0,
		  "bind", TCP);
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_not_null(line_find(r.o, "done", 0), "%s", r.o);
	cr_assert_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "adopted despite %s: %s", raw, r.o);
	cr_assert_eq(line_count(r.o, "bound"), 1, "a native bind failed: %s", r.o);
	expect_not_adopted(&r, 0);
	cr_expect_eq(line_count_sub(r.e, "sdadopt:"), 1, "want exactly one line from sdadopt for %s:\n%s", raw, r.e);
	const char *w = line_find_sub(r.e, "sdadopt: warning:", 0);
	cr_expect_not_null(w, "no warning for %s:\n%s", raw, r.e);
	if (w)
		cr_expect(line_find_sub(w, var, 0) == w, "the warning does not name %s: %s", var, r.e);
	if (cleared)
		cr_expect_not_null(line_find_sub(r.o, "env-end count=0", 0), "LISTEN_* left in environ: %s", r.o);
}

Test(malformed, fds_not_a_number) { malformed("LISTEN_FDS=abc", "LISTEN_FDS", 1); }
Test(malformed, fds_zero) { malformed("LISTEN_FDS=0", "LISTEN_FDS", 1); }
Test(malformed, fds_negative) { malformed("LISTEN_FDS=-1", "LISTEN_FDS", 1); }
Test(malformed, fds_above_int_max_minus_3) { malformed("LISTEN_FDS=2147483645", "LISTEN_FDS", 1); }
Test(malformed, fds_overflow) { malformed("LISTEN_FDS=99999999999999999999", "LISTEN_FDS", 1); }
Test(malformed, fds_trailing_garbage) { malformed("LISTEN_FDS=1x", "LISTEN_FDS", 1); }
Test(malformed, fdnames_count_mismatch) { malformed("LISTEN_FDNAMES=a:b", "LISTEN_FDNAMES", 1); }
Test(malformed, pid_garbage) { malformed("LISTEN_PID={pid}abc", "LISTEN_PID", 0); }
Test(malformed, pid_zero) { malformed("LISTEN_PID=0", "LISTEN_PID", 0); }
Test(malformed, pidfdid_garbage) { malformed("LISTEN_PIDFDID=xyz", "LISTEN_PIDFDID", 1); }

/* LISTEN_FDS claims more fds than were passed: the real one is adopted, the
 * missing one is reported once, and its fd number stays the program's (a
 * file the program opens and closes there is really closed). */
Test(malformed, fds_more_than_passed)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--no-fdnames", "--raw-env", "LISTEN_FDS=2", "--listen", TCP, "--", SERVER,
		  "open-close", "bind", BIND0, "open-close");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_expect_eq(line_count_sub(r.e, "sdadopt: warning:"), 1, "%s", r.e);
	cr_expect_not_null(line_find_sub(r.e, "ignoring inherited fd 4", 0), "%s", r.e);
	for (int i = 0; i < 2; i++) {
		const char *l = line_find(r.o, "openclose", i);
		cr_assert_not_null(l, "%s", r.o);
		cr_expect_eq(kv_num(l, "still_open"), 0, "close(%lld) did not close the program's file: %s",
			     kv_num(l, "fd"), r.o);
	}
}

/* ---- hygiene ------------------------------------------------------------ */

TestSuite(hygiene, .timeout = TEST_BACKSTOP_S);

static void hygiene(int shim)
{
	char abs[96];
	struct run r;

	snprintf(abs, sizeof abs, "unix:@sdadopt-test-hyg-%ld", (long)getpid());
	run_start(&r, shim, "--listen", TCP, "--listen", abs, "--", SERVER, "env", "fds", "exec-fds", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	for (int s = 0; s < 2; s++) {
		long long ino = act_value(&r, s, "ino");
		const char *l = fd_line(&r, "fd", ino);
		if (!shim) {
			/* The control proves the checks below can fail. */
			cr_assert_not_null(line_find_sub(r.o, "env-end count=3", 0), "%s", r.o);
			cr_assert_eq(kv_num(l, "cloexec"), 0, "%s", r.o);
			cr_assert_not_null(fd_line(&r, "child-fd", ino), "%s", r.o);
			continue;
		}
		cr_expect_not_null(line_find_sub(r.o, "env-end count=0", 0), "LISTEN_* left in environ: %s", r.o);
		cr_assert_not_null(l, "inherited socket %d is not open after init: %s", s, r.o);
		cr_expect_eq(kv_num(l, "cloexec"), 1, "inherited socket %d is not CLOEXEC: %s", s, r.o);
		cr_expect_null(fd_line(&r, "child-fd", ino), "an exec'd child got inherited socket %d: %s", s, r.o);
	}
	cr_assert_not_null(line_find(r.o, "child-fds-end", 0), "%s", r.o);
	if (shim)
		expect_adopted(&r, 0, 0);
}

/* Invariant 2: errno survives every path where the real call keeps it.  The
 * first bind probes the inherited fds (LISTEN_FDS names one more than was
 * passed) and adopts, with the option comparison's getsockopt calls; a
 * second bind is native.  Both succeed, so errno must be what the program
 * set before the call. */
Test(hygiene, errno_kept_by_successful_binds)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", TCP, "--raw-env", "LISTEN_FDS=2", "--no-fdnames",
		  "--", SERVER, "bind", BIND0, "bind", "tcp:127.0.0.1:0");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	for (int i = 0; i < 2; i++) {
		const char *l = line_find(r.o, "bound", i);
		char e[32];

		cr_assert_not_null(l, "%s", r.o);
		cr_assert_not_null(kv_str(l, "errno", e, sizeof e), "%s", r.o);
		cr_expect_str_eq(e, "ENOTTY", "bind %d changed errno: %s", i, r.o);
	}
}

Test(hygiene, env_and_fds_after_init) { hygiene(WITH_SHIM); }
Test(hygiene, control) { hygiene(NO_SHIM); }

/* A wrapper that execs the server in place (sh -c 'exec server') before any
 * adoption hands the sockets on: the exec'd image, same pid, adopts. */
Test(hygiene, exec_in_place_hands_down)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", TCP, "--", SERVER, "pid", "exec", "pid", "env", "bind", BIND0,
		  "listen", "5", "serve");
	cr_assert_not_null(run_wait(&r, "socket", 0));
	expect_echo(fmt("tcp:127.0.0.1:%lld", act_value(&r, 0, "port")), "exec");
	cr_assert_eq(run_finish(&r), 0);
	cr_assert_eq(kv_num(line_find(r.o, "pid", 0), "pid"), kv_num(line_find(r.o, "pid", 1), "pid"), "%s", r.o);
	cr_expect_not_null(line_find_sub(r.o, "env-end count=0", 0), "%s", r.o);
	expect_adopted(&r, 0, 0);
}

/* After an adoption, an exec'd image gets neither the sockets nor LISTEN_*
 * (the app's own CLOEXEC fd closes too), so it binds natively. */
Test(hygiene, exec_after_adoption_hands_nothing)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", TCP, "--", SERVER, "cloexec", "bind", BIND0, "exec", "env", "fds",
		  "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_expect_not_null(line_find_sub(r.o, "env-end count=0", 0), "%s", r.o);
	cr_expect_null(fd_line(&r, "fd", act_value(&r, 0, "ino")), "the exec'd image has the socket: %s", r.o);
	cr_expect_not_null(line_find_sub(r.o, "bind-error err=EADDRINUSE", 0), "%s", r.o);
}
