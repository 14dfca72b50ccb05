/* SPDX-License-Identifier: MIT */
/* What the shim says on stderr: one info line per adoption, naming the
 * program and pid; silence on request; syslog prefixes for the journal. */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define TCP "tcp:127.0.0.1:0"
#define BIND0 "tcp:127.0.0.1:{port0}"

TestSuite(logging, .timeout = TEST_BACKSTOP_S);

Test(logging, one_info_line_per_adoption)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--name", "web", "--listen", TCP, "--", SERVER, "pid", "bind", BIND0,
		  "listen", "5", "close", "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	expect_adopted(&r, 1, 0);
	long long pid = kv_num(line_find(r.o, "pid", 0), "pid");
	char head[128];
	snprintf(head, sizeof head, "sda-testserver[%lld]: sdadopt: info: adopted inherited fd 3 \"web\"", pid);
	cr_expect_eq(line_count_sub(r.e, "info: adopted"), 2, "%s", r.e);
	for (int i = 0; i < 2; i++) {
		const char *l = line_find_sub(r.e, "info: adopted", i);
		cr_assert_not_null(l, "%s", r.e);
		cr_expect(!strncmp(l, head, strlen(head)), "line %d does not start with '%s':\n%s", i, head, r.e);
		cr_expect(line_find_sub(l, "[exact]", 0) == l, "%s", r.e);
		cr_expect(line_find_sub(l, fmt("127.0.0.1:%lld", act_value(&r, 0, "port")), 0) == l, "%s", r.e);
	}
}

Test(logging, wildcard_says_so)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--listen", "tcp:0.0.0.0:0", "--", SERVER, "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_expect_not_null(line_find_sub(r.e, "[wildcard]", 0), "%s", r.e);
}

Test(logging, off_is_silent)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=off", "--listen", TCP, "--", SERVER, "bind", BIND0,
		  "listen", "5");
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_expect_eq(r.elen, 0, "stderr: %s", r.e);
}

Test(logging, off_is_silent_on_bad_env)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=off", "--raw-env", "LISTEN_FDS=abc", "--listen", TCP, "--",
		  SERVER, "loaded", "env", "bind", TCP);
	cr_assert_eq(run_finish(&r), 0);
	expect_loaded(&r);
	cr_expect_not_null(line_find_sub(r.o, "env-end count=0", 0), "%s", r.o);
	cr_expect_eq(r.elen, 0, "stderr: %s", r.e);
}

/* JOURNAL_STREAM=DEV:INO of the pipe we give as stderr. */
static void journal(int match)
{
	struct stat st;
	struct run r;

	run_prepare(&r);
	cr_assert_eq(fstat(r.err, &st), 0);
	const char *js = match ? fmt("JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
				     (unsigned long long)st.st_ino)
			       : fmt("JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
				     (unsigned long long)st.st_ino + 1);
	const char *argv[] = { "--env", js, "--listen", TCP, "--", SERVER, "bind", BIND0, NULL };
	run_exec(&r, WITH_SHIM, argv);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	const char *l = line_find_sub(r.e, "info: adopted", 0);
	cr_assert_not_null(l, "%s", r.e);
	if (match)
		cr_expect(!strncmp(l, "<6>sda-testserver[", 18), "no <6> prefix with %s:\n%s", js, r.e);
	else
		cr_expect(!strncmp(l, "sda-testserver[", 15), "unexpected prefix with %s:\n%s", js, r.e);
}

Test(logging, journal_prefix) { journal(1); }
Test(logging, journal_prefix_only_when_it_matches) { journal(0); }

Test(logging, journal_warning_prefix)
{
	struct stat st;
	struct run r;

	run_prepare(&r);
	cr_assert_eq(fstat(r.err, &st), 0);
	const char *argv[] = { "--env", fmt("JOURNAL_STREAM=%llu:%llu", (unsigned long long)st.st_dev,
					    (unsigned long long)st.st_ino),
			       "--raw-env", "LISTEN_FDS=abc", "--listen", TCP, "--", SERVER, "bind", TCP, NULL };
	run_exec(&r, WITH_SHIM, argv);
	cr_assert_eq(run_finish(&r), 0);
	cr_expect(!strncmp(r.e, "<4>sda-testserver[", 18), "%s", r.e);
}

/* The debug line at activation counts the inherited fds (it once printed a
 * return code: "activated: 0 inherited fds" with one). */
Test(logging, debug_counts_inherited_fds)
{
	struct run r;

	run_start(&r, WITH_SHIM, "--env", "SDADOPT_LOG=debug", "--listen", TCP, "--listen",
		  "udp:127.0.0.1:0", "--", SERVER, "bind", BIND0);
	cr_assert_eq(run_finish(&r), 0);
	expect_adopted(&r, 0, 0);
	cr_expect_not_null(line_find_sub(r.e, "debug: activated: 2 inherited fds", 0), "%s", r.e);
}
