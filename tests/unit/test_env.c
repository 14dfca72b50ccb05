/* SPDX-License-Identifier: MIT */
/* Unit tests of core/env: LISTEN_* parsing (mirrors sd_listen_fds_with_names)
 * and the strict decimal parsers. */
#include <criterion/criterion.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"

#define SELF_PID 4242
#define SELF_PIDFDID UINT64_C(987654321)

static struct sda_env_input base_input(void)
{
	struct sda_env_input in;
	memset(&in, 0, sizeof in);
	in.listen_pid = "4242";
	in.listen_pidfdid = NULL;
	in.listen_fds = "2";
	in.listen_fdnames = NULL;
	in.self_pid = SELF_PID;
	in.self_pidfdid = SELF_PIDFDID;
	in.have_self_pidfdid = 1;
	in.max_fds = 1024;
	return in;
}

/* Parse into an output struct deliberately filled with garbage (the contract
 * says out is always safe to free afterwards, so parse must initialise it),
 * check the invariants every result must satisfy, and return the result. */
static int parse(const struct sda_env_input *in, struct sda_env *out)
{
	memset(out, 0xA5, sizeof *out);
	int r = sda_env_parse(in, out);
	if (r > 0) {
		cr_assert_eq(out->n_fds, r, "n_fds %d != return %d", out->n_fds, r);
		cr_assert_not_null(out->names, "names NULL with %d fds", r);
		for (int i = 0; i < r; i++)
			cr_assert_not_null(out->names[i], "names[%d] NULL", i);
	} else {
		cr_assert(r == 0 || r == -EINVAL || r == -ENOMEM, "unexpected return %d", r);
		cr_assert_eq(out->n_fds, 0, "n_fds %d on inert/error result %d", out->n_fds, r);
		if (r != -ENOMEM)
			cr_assert_not_null(out->why, "why is NULL on result %d", r);
	}
	return r;
}

/* Parse, expect `want`, free. */
static void expect(const struct sda_env_input *in, int want, const char *what)
{
	struct sda_env e;
	int r = parse(in, &e);
	cr_assert_eq(r, want, "%s: sda_env_parse returned %d, want %d (why: %s)", what, r, want,
		     r <= 0 && e.why ? e.why : "-");
	sda_env_free(&e);
}

/* ---- LISTEN_PID --------------------------------------------------------- */

Test(env_pid, absent_is_inert)
{
	struct sda_env_input in = base_input();
	in.listen_pid = NULL;
	expect(&in, 0, "LISTEN_PID absent");
	/* Even with garbage in the other variables: nothing is for us. */
	in.listen_fds = "abc";
	in.listen_fdnames = "a:b:c";
	in.listen_pidfdid = "xyz";
	expect(&in, 0, "LISTEN_PID absent, others garbage");
}

Test(env_pid, other_pid_is_inert)
{
	struct sda_env_input in = base_input();
	in.listen_pid = "4243";
	expect(&in, 0, "LISTEN_PID of another process");
	in.listen_pid = "1";
	expect(&in, 0, "LISTEN_PID=1");
	/* systemd checks LISTEN_PID first: other variables are not ours to judge. */
	in.listen_fds = "abc";
	expect(&in, 0, "other pid + malformed LISTEN_FDS");
	in.listen_fds = "2";
	in.listen_fdnames = "a:b:c";
	expect(&in, 0, "other pid + name count mismatch");
}

Test(env_pid, own_pid_accepted)
{
	struct sda_env_input in = base_input();
	expect(&in, 2, "LISTEN_PID = own pid");
}

Test(env_pid, malformed_is_einval)
{
	static const char *const bad[] = {
		"",      "abc",  "12x",  "-5",   "0",   " 12",  "12 ",  "+4242", "4242\n",
		"0x10",  "-4242", "-0",  "4 2",  "99999999999999999999",
		"4294971538",            /* 2^32 + 4242: must not wrap to our pid */
		"18446744073709555858",  /* 2^64 + 4242 */
		"2147483648",            /* INT_MAX + 1 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sda_env_input in = base_input();
		in.listen_pid = bad[i];
		char what[64];
		snprintf(what, sizeof what, "LISTEN_PID=\"%s\"", bad[i]);
		expect(&in, -EINVAL, what);
	}
}

/* ---- LISTEN_PIDFDID ----------------------------------------------------- */

Test(env_pidfdid, equal_is_accepted)
{
	struct sda_env_input in = base_input();
	in.listen_pidfdid = "987654321";
	expect(&in, 2, "LISTEN_PIDFDID equal to ours");
}

Test(env_pidfdid, different_is_not_for_us)
{
	struct sda_env_input in = base_input();
	in.listen_pidfdid = "987654322";
	expect(&in, 0, "LISTEN_PIDFDID of another process (pid reused)");
	in.listen_pidfdid = "1";
	expect(&in, 0, "LISTEN_PIDFDID=1");
}

Test(env_pidfdid, large_values)
{
	struct sda_env_input in = base_input();
	in.self_pidfdid = UINT64_MAX;
	in.listen_pidfdid = "18446744073709551615";
	expect(&in, 2, "LISTEN_PIDFDID = UINT64_MAX equal");
	in.listen_pidfdid = "18446744073709551614";
	expect(&in, 0, "LISTEN_PIDFDID = UINT64_MAX-1 differs");
	/* 2^32 + 5 must not be truncated to 5 */
	in.self_pidfdid = 5;
	in.listen_pidfdid = "4294967301";
	expect(&in, 0, "LISTEN_PIDFDID 2^32+5 vs 5");
}

Test(env_pidfdid, kernel_cannot_tell_is_accepted)
{
	struct sda_env_input in = base_input();
	in.have_self_pidfdid = 0;
	in.self_pidfdid = 0;
	in.listen_pidfdid = "987654322";
	expect(&in, 2, "LISTEN_PIDFDID present, no pidfs");
}

Test(env_pidfdid, absent_is_fine)
{
	struct sda_env_input in = base_input();
	in.listen_pidfdid = NULL;
	expect(&in, 2, "LISTEN_PIDFDID absent");
	in.have_self_pidfdid = 0;
	expect(&in, 2, "LISTEN_PIDFDID absent, no pidfs");
}

Test(env_pidfdid, other_pid_wins)
{
	struct sda_env_input in = base_input();
	in.listen_pid = "4243";
	in.listen_pidfdid = "987654321";
	expect(&in, 0, "LISTEN_PIDFDID matches but LISTEN_PID does not");
}

Test(env_pidfdid, malformed_is_einval)
{
	static const char *const bad[] = {
		"", "abc", "12x", "-1", " 1", "1 ", "+1", "0x10",
		"18446744073709551616", "99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sda_env_input in = base_input();
		in.listen_pidfdid = bad[i];
		char what[80];
		snprintf(what, sizeof what, "LISTEN_PIDFDID=\"%s\"", bad[i]);
		expect(&in, -EINVAL, what);
	}
}

/* ---- LISTEN_FDS --------------------------------------------------------- */

Test(env_fds, absent_is_inert)
{
	struct sda_env_input in = base_input();
	in.listen_fds = NULL;
	expect(&in, 0, "LISTEN_FDS absent");
	in.listen_fdnames = "a:b";
	expect(&in, 0, "LISTEN_FDS absent, names present");
}

Test(env_fds, valid_counts)
{
	struct sda_env_input in = base_input();
	in.listen_fds = "1";
	expect(&in, 1, "LISTEN_FDS=1");
	in.listen_fds = "7";
	expect(&in, 7, "LISTEN_FDS=7");
	in.listen_fds = "1000";
	expect(&in, 1000, "LISTEN_FDS=1000");
}

Test(env_fds, malformed_is_einval)
{
	static const char *const bad[] = {
		"0", "-1", "-0", "abc", "", "3x", "+3", " 3", "3 ", "3\n", "0x3", "3.0",
		"2147483648", "99999999999999999999", "4294967298", /* 2^32 + 2 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sda_env_input in = base_input();
		in.listen_fds = bad[i];
		char what[80];
		snprintf(what, sizeof what, "LISTEN_FDS=\"%s\"", bad[i]);
		expect(&in, -EINVAL, what);
	}
}

Test(env_fds, int_max_bound)
{
	/* LISTEN_FDS must be <= INT_MAX - 3 (fds 3..3+N-1 must be ints). */
	struct sda_env_input in = base_input();
	in.max_fds = LONG_MAX;
	in.listen_fds = "2147483647";
	expect(&in, -EINVAL, "LISTEN_FDS=INT_MAX");
	in.listen_fds = "2147483645"; /* INT_MAX - 2 */
	expect(&in, -EINVAL, "LISTEN_FDS=INT_MAX-2");
}

Test(env_fds, above_max_fds_is_einval)
{
	struct sda_env_input in = base_input();
	in.max_fds = 16;
	in.listen_fds = "17";
	expect(&in, -EINVAL, "LISTEN_FDS > max_fds");
	in.listen_fds = "1000";
	expect(&in, -EINVAL, "LISTEN_FDS >> max_fds");
	in.listen_fds = "13"; /* fds 3..15 all below 16 */
	expect(&in, 13, "LISTEN_FDS well within max_fds");
}

/* ---- LISTEN_FDNAMES ----------------------------------------------------- */

static void expect_names(const char *fds, const char *fdnames, int n, const char *const *want)
{
	struct sda_env_input in = base_input();
	in.listen_fds = fds;
	in.listen_fdnames = fdnames;
	struct sda_env e;
	int r = parse(&in, &e);
	cr_assert_eq(r, n, "LISTEN_FDS=%s LISTEN_FDNAMES=\"%s\": returned %d, want %d (why: %s)", fds,
		     fdnames ? fdnames : "(absent)", r, n, r <= 0 && e.why ? e.why : "-");
	for (int i = 0; i < n; i++)
		cr_assert_str_eq(e.names[i], want[i], "LISTEN_FDNAMES=\"%s\": names[%d]=\"%s\", want \"%s\"",
				 fdnames ? fdnames : "(absent)", i, e.names[i], want[i]);
	sda_env_free(&e);
}

Test(env_names, absent_every_name_unknown)
{
	static const char *const w[] = {"unknown", "unknown", "unknown"};
	expect_names("3", NULL, 3, w);
}

Test(env_names, split_on_colon)
{
	static const char *const w2[] = {"a", "b"};
	expect_names("2", "a:b", 2, w2);
	static const char *const w1[] = {"http"};
	expect_names("1", "http", 1, w1);
	static const char *const w4[] = {"web", "web", "admin", "dns"};
	expect_names("4", "web:web:admin:dns", 4, w4);
}

Test(env_names, empty_fields_are_kept)
{
	static const char *const w3[] = {"a", "", "b"};
	expect_names("3", "a::b", 3, w3);
	static const char *const w1[] = {""};
	expect_names("1", "", 1, w1);
	static const char *const wt[] = {"a", ""};
	expect_names("2", "a:", 2, wt);
	static const char *const wl[] = {"", "a"};
	expect_names("2", ":a", 2, wl);
	static const char *const we[] = {"", "", ""};
	expect_names("3", "::", 3, we);
}

Test(env_names, count_mismatch_is_einval)
{
	static const struct {
		const char *fds, *names;
	} bad[] = {
		{"3", "a:b"}, {"2", "a:b:c"}, {"2", ""}, {"2", "a"}, {"2", "a::b"},
		{"1", ":"},   {"1", "a:"},    {"3", "::::"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sda_env_input in = base_input();
		in.listen_fds = bad[i].fds;
		in.listen_fdnames = bad[i].names;
		char what[80];
		snprintf(what, sizeof what, "LISTEN_FDS=%s LISTEN_FDNAMES=\"%s\"", bad[i].fds, bad[i].names);
		expect(&in, -EINVAL, what);
	}
}

Test(env_names, odd_bytes_kept_verbatim)
{
	static const char *const w[] = {
		"web sock", "\t\"quoted\" 'single'", "k=v;#!$(x)", "caf\xc3\xa9", "\x01\x7f\xff", "-",
	};
	expect_names("6", "web sock:\t\"quoted\" 'single':k=v;#!$(x):caf\xc3\xa9:\x01\x7f\xff:-", 6, w);
}

Test(env_names, names_are_a_private_copy)
{
	char buf[] = "alpha:beta";
	struct sda_env_input in = base_input();
	in.listen_fdnames = buf;
	struct sda_env e;
	cr_assert_eq(parse(&in, &e), 2);
	memset(buf, 'X', sizeof buf - 1);
	cr_assert_str_eq(e.names[0], "alpha");
	cr_assert_str_eq(e.names[1], "beta");
	sda_env_free(&e);
}

Test(env_names, many_names)
{
	enum { N = 1000 };
	static char buf[N * 8];
	size_t off = 0;
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%sn%d", i ? ":" : "", i);
	struct sda_env_input in = base_input();
	in.listen_fds = "1000";
	in.listen_fdnames = buf;
	struct sda_env e;
	cr_assert_eq(parse(&in, &e), N);
	for (int i = 0; i < N; i++) {
		char w[16];
		snprintf(w, sizeof w, "n%d", i);
		cr_assert_str_eq(e.names[i], w, "names[%d]", i);
	}
	sda_env_free(&e);
}

Test(env_names, unknown_default_classified)
{
	struct sda_env_input in = base_input();
	struct sda_env e;
	cr_assert_eq(parse(&in, &e), 2);
	cr_assert_eq(sda_name_kind(e.names[0]), SDA_NAME_UNKNOWN);
	cr_assert_eq(sda_name_kind(e.names[1]), SDA_NAME_UNKNOWN);
	sda_env_free(&e);
}

/* ---- why / free --------------------------------------------------------- */

Test(env_free, zeroed_struct)
{
	struct sda_env e;
	memset(&e, 0, sizeof e);
	sda_env_free(&e);
}

Test(env_free, after_every_kind_of_result)
{
	struct sda_env_input ins[8];
	for (int i = 0; i < 8; i++)
		ins[i] = base_input();
	ins[0].listen_pid = NULL;             /* 0: not activated */
	ins[1].listen_pid = "1";              /* 0: other pid */
	ins[2].listen_pid = "x";              /* -EINVAL */
	ins[3].listen_fds = "0";              /* -EINVAL */
	ins[4].listen_fdnames = "a:b:c";      /* -EINVAL (mismatch, after names split) */
	ins[5].listen_fdnames = "a:b";        /* > 0 with names */
	/* ins[6]: > 0, default names */
	ins[7].listen_pidfdid = "12";         /* 0: other pidfd */
	for (int i = 0; i < 8; i++) {
		struct sda_env e;
		(void)parse(&ins[i], &e);
		sda_env_free(&e);
	}
}

Test(env_why, non_null_on_every_inert_or_error_result)
{
	static const char *const pids[] = {NULL, "4242", "4243", "x", "0"};
	static const char *const fds[] = {NULL, "2", "0", "x", "2000"};
	static const char *const names[] = {NULL, "a:b", "a", ""};
	static const char *const fdids[] = {NULL, "987654321", "5", "x"};
	int seen_pos = 0, seen_zero = 0, seen_inval = 0;
	for (size_t a = 0; a < 5; a++)
		for (size_t b = 0; b < 5; b++)
			for (size_t c = 0; c < 4; c++)
				for (size_t d = 0; d < 4; d++) {
					struct sda_env_input in = base_input();
					in.listen_pid = pids[a];
					in.listen_fds = fds[b];
					in.listen_fdnames = names[c];
					in.listen_pidfdid = fdids[d];
					struct sda_env e;
					int r = parse(&in, &e); /* asserts why != NULL */
					seen_pos += r > 0;
					seen_zero += r == 0;
					seen_inval += r == -EINVAL;
					sda_env_free(&e);
				}
	cr_assert(seen_pos && seen_zero && seen_inval);
}

/* ---- strict decimal parsers --------------------------------------------- */

Test(parse_int, accepts)
{
	static const struct {
		const char *s;
		int v;
	} ok[] = {
		{"0", 0}, {"1", 1}, {"42", 42}, {"-1", -1}, {"-42", -42},
		{"2147483647", INT_MAX}, {"-2147483648", INT_MIN},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int v = 12345;
		cr_assert_eq(sda_parse_int(ok[i].s, &v), 0, "sda_parse_int(\"%s\") failed", ok[i].s);
		cr_assert_eq(v, ok[i].v, "sda_parse_int(\"%s\") = %d", ok[i].s, v);
	}
}

Test(parse_int, rejects)
{
	static const char *const bad[] = {
		"", "-", "+", "+1", " 1", "1 ", "\t1", "1\n", "1x", "x1", "0x1", "1.0", "1e3", "--1",
		"- 1", "2147483648", "-2147483649", "4294967296", "4294967297", "99999999999999999999",
		"-99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int v = 0;
		cr_assert_lt(sda_parse_int(bad[i], &v), 0, "sda_parse_int(\"%s\") accepted (%d)", bad[i], v);
	}
}

Test(parse_u64, accepts)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{"0", 0}, {"1", 1}, {"4294967296", UINT64_C(4294967296)},
		{"18446744073709551615", UINT64_MAX},
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		uint64_t v = 12345;
		cr_assert_eq(sda_parse_u64(ok[i].s, &v), 0, "sda_parse_u64(\"%s\") failed", ok[i].s);
		cr_assert_eq(v, ok[i].v, "sda_parse_u64(\"%s\") = %llu", ok[i].s, (unsigned long long)v);
	}
}

Test(parse_u64, rejects)
{
	/* "-1" is the classic strtoull trap: it returns UINT64_MAX. */
	static const char *const bad[] = {
		"", "-", "-1", "-0", "+1", " 1", "1 ", "1x", "0x1", "1.0",
		"18446744073709551616", "18446744073709551617", "99999999999999999999",
		"184467440737095516150",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t v = 0;
		cr_assert_lt(sda_parse_u64(bad[i], &v), 0, "sda_parse_u64(\"%s\") accepted (%llu)", bad[i],
			     (unsigned long long)v);
	}
}

Test(parse_pid, accepts)
{
	pid_t p = 0;
	cr_assert_eq(sda_parse_pid("1", &p), 0);
	cr_assert_eq(p, 1);
	cr_assert_eq(sda_parse_pid("4242", &p), 0);
	cr_assert_eq(p, 4242);
	cr_assert_eq(sda_parse_pid("2147483647", &p), 0);
	cr_assert_eq(p, (pid_t)INT_MAX);
}

Test(parse_pid, rejects)
{
	static const char *const bad[] = {
		"", "0", "-0", "-1", "-4242", "+1", " 1", "1 ", "1x", "abc", "0x10",
		"2147483648", "4294967297", "99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pid_t p = 0;
		cr_assert_lt(sda_parse_pid(bad[i], &p), 0, "sda_parse_pid(\"%s\") accepted (%d)", bad[i], (int)p);
	}
}

/* ---- reserved names ----------------------------------------------------- */

Test(name_kind, reserved_and_plain)
{
	cr_assert_eq(sda_name_kind("unknown"), SDA_NAME_UNKNOWN);
	cr_assert_eq(sda_name_kind("stored"), SDA_NAME_STORED);
	cr_assert_eq(sda_name_kind("connection"), SDA_NAME_CONNECTION);
	static const char *const plain[] = {
		"", "web", "unknown2", "unknow", "Unknown", "UNKNOWN", "stored ", " stored", "store",
		"connections", "connection:", "http",
	};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		cr_assert_eq(sda_name_kind(plain[i]), SDA_NAME_PLAIN, "sda_name_kind(\"%s\") not plain", plain[i]);
}
