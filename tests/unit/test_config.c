/* SPDX-License-Identifier: MIT */
/* Unit tests of core/config: SDADOPT_LOG. */
#include <criterion/criterion.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "unit_util.h"

static void expect_level(const char *s, enum sda_level want)
{
	enum sda_level l = (enum sda_level)99;
	int r = sda_parse_level(s, &l);
	cr_assert_eq(r, 0, "sda_parse_level(\"%s\") = %d", s ? s : "(null)", r);
	cr_assert_eq(l, want, "sda_parse_level(\"%s\") -> %d, want %d", s ? s : "(null)", (int)l, (int)want);
}

Test(config_level, names)
{
	expect_level("off", SDA_LOG_OFF);
	expect_level("none", SDA_LOG_OFF);
	expect_level("error", SDA_LOG_ERROR);
	expect_level("err", SDA_LOG_ERROR);
	expect_level("warning", SDA_LOG_WARNING);
	expect_level("warn", SDA_LOG_WARNING);
	expect_level("info", SDA_LOG_INFO);
	expect_level("debug", SDA_LOG_DEBUG);
}

Test(config_level, names_any_case)
{
	expect_level("DEBUG", SDA_LOG_DEBUG);
	expect_level("Warning", SDA_LOG_WARNING);
	expect_level("OFF", SDA_LOG_OFF);
}

Test(config_level, default_when_unset)
{
	expect_level(NULL, SDA_LOG_DEFAULT);
	expect_level("", SDA_LOG_DEFAULT);
	cr_assert_eq(SDA_LOG_DEFAULT, SDA_LOG_INFO);
}

Test(config_level, syslog_digits)
{
	expect_level("0", SDA_LOG_OFF);
	expect_level("3", SDA_LOG_ERROR);
	expect_level("4", SDA_LOG_WARNING);
	expect_level("6", SDA_LOG_INFO);
	expect_level("7", SDA_LOG_DEBUG);
	/* 1 (alert), 2 (crit): below error, so none of our messages show */
	for (const char *s = "12"; *s; s++) {
		char d[2] = {*s, 0};
		enum sda_level l = SDA_LOG_DEBUG;
		cr_assert_eq(sda_parse_level(d, &l), 0, "\"%s\"", d);
		cr_assert_lt((int)l, (int)SDA_LOG_ERROR, "\"%s\" -> %d shows errors", d, (int)l);
	}
	/* 5 (notice): warnings show, info does not */
	enum sda_level l = SDA_LOG_DEBUG;
	cr_assert_eq(sda_parse_level("5", &l), 0);
	cr_assert_geq((int)l, (int)SDA_LOG_WARNING);
	cr_assert_lt((int)l, (int)SDA_LOG_INFO);
}

Test(config_level, bad_values_einval_with_default)
{
	static const char *const bad[] = {
		"8", "9", "-1", "10", "07", "+3", " info", "info ", "infos", "inf", "debugx", "x",
		"warnings", "e", "3x", "0x3", "info\n", "on", "yes", "true",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum sda_level l = SDA_LOG_DEBUG;
		cr_assert_eq(sda_parse_level(bad[i], &l), -EINVAL, "\"%s\" accepted", bad[i]);
		cr_assert_eq(l, SDA_LOG_DEFAULT, "\"%s\": level %d, want the default", bad[i], (int)l);
		l = SDA_LOG_OFF;
		cr_assert_eq(sda_parse_level(bad[i], &l), -EINVAL);
		cr_assert_eq(l, SDA_LOG_DEFAULT, "\"%s\": level %d, want the default", bad[i], (int)l);
	}
}

Test(config_level, names_roundtrip)
{
	static const enum sda_level all[] = {SDA_LOG_OFF, SDA_LOG_ERROR, SDA_LOG_WARNING, SDA_LOG_INFO,
					     SDA_LOG_DEBUG};
	cr_assert_str_eq(sda_level_name(SDA_LOG_OFF), "off");
	cr_assert_str_eq(sda_level_name(SDA_LOG_ERROR), "error");
	cr_assert_str_eq(sda_level_name(SDA_LOG_WARNING), "warning");
	cr_assert_str_eq(sda_level_name(SDA_LOG_INFO), "info");
	cr_assert_str_eq(sda_level_name(SDA_LOG_DEBUG), "debug");
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		expect_level(sda_level_name(all[i]), all[i]);
	cr_assert_not_null(sda_level_name((enum sda_level)5));
}

/* ---- SDADOPT_STRICT ------------------------------------------------------ */

Test(config_bool, values)
{
	static const char *const yes[] = {"1", "yes", "true", "on", "YES", "True", "ON"};
	static const char *const no[] = {"0", "no", "false", "off", "NO", "False", "Off"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		int b = 0;
		cr_assert_eq(sda_parse_bool(yes[i], &b), 0, "\"%s\"", yes[i]);
		cr_assert_eq(b, 1, "\"%s\"", yes[i]);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		int b = 1;
		cr_assert_eq(sda_parse_bool(no[i], &b), 0, "\"%s\"", no[i]);
		cr_assert_eq(b, 0, "\"%s\"", no[i]);
	}
	int b = 1;
	cr_assert_eq(sda_parse_bool(NULL, &b), 0);
	cr_assert_eq(b, 0, "unset means off");
	b = 1;
	cr_assert_eq(sda_parse_bool("", &b), 0);
	cr_assert_eq(b, 0);
}

Test(config_bool, bad_values)
{
	static const char *const bad[] = {"2", "-1", "y", "n", "t", "f", "enable", "yess", " 1", "1 ", "01", "o"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int b = 1;
		cr_assert_eq(sda_parse_bool(bad[i], &b), -EINVAL, "\"%s\" accepted", bad[i]);
		cr_assert_eq(b, 0, "\"%s\": a bad value must leave the default (off)", bad[i]);
	}
}

/* ---- SDADOPT_MATCH -------------------------------------------------------- */

Test(config_policy, values)
{
	enum sda_match_policy p;
	p = SDA_POLICY_PORT;
	cr_assert_eq(sda_parse_match_policy(NULL, &p), 0);
	cr_assert_eq(p, SDA_POLICY_EXACT);
	p = SDA_POLICY_PORT;
	cr_assert_eq(sda_parse_match_policy("", &p), 0);
	cr_assert_eq(p, SDA_POLICY_EXACT);
	p = SDA_POLICY_PORT;
	cr_assert_eq(sda_parse_match_policy("exact", &p), 0);
	cr_assert_eq(p, SDA_POLICY_EXACT);
	cr_assert_eq(sda_parse_match_policy("port", &p), 0);
	cr_assert_eq(p, SDA_POLICY_PORT);
	static const char *const bad[] = {"ports", "any", "exactly", "por", " port", "port ", "1", "wildcard"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		p = SDA_POLICY_PORT;
		cr_assert_eq(sda_parse_match_policy(bad[i], &p), -EINVAL, "\"%s\" accepted", bad[i]);
		cr_assert_eq(p, SDA_POLICY_EXACT, "\"%s\": a bad value must leave the default", bad[i]);
	}
}

/* ---- sda_addr_parse ----------------------------------------------------- */

static struct sda_addr parsed(const char *s)
{
	struct sda_addr a;
	memset(&a, 0x5A, sizeof a);
	int r = sda_addr_parse(s, strlen(s), &a);
	cr_assert_eq(r, 0, "sda_addr_parse(\"%s\") = %d", s, r);
	return a;
}

static void expect_same_key(const char *text, struct sda_addr decoded)
{
	struct sda_addr a = parsed(text);
	char t1[200], t2[200];
	sda_addr_format(&a, t1, sizeof t1);
	sda_addr_format(&decoded, t2, sizeof t2);
	cr_assert_eq(sda_addr_cmp(&a, &decoded), 0,
		     "\"%s\" parses to %s, which is not the key of the bound address %s", text, t1, t2);
}

Test(config_addr_parse, forms_match_decoded_keys)
{
	/* the map's keys must compare equal to what bind() hands the shim */
	expect_same_key("127.0.0.1:8080", ua_ip("127.0.0.1", 8080));
	expect_same_key("0.0.0.0:1", ua_ip("0.0.0.0", 1));
	expect_same_key("255.255.255.255:65535", ua_ip("255.255.255.255", 65535));
	expect_same_key("[::1]:80", ua_ip("::1", 80));
	expect_same_key("[::]:443", ua_ip("::", 443));
	expect_same_key("[2001:db8::42]:53", ua_ip("2001:db8::42", 53));
	expect_same_key("[::ffff:127.0.0.1]:80", ua_ip("::ffff:127.0.0.1", 80));
	expect_same_key("/run/app.sock", ua_path("/run/app.sock"));
	expect_same_key("/", ua_path("/"));
	expect_same_key("@app-ctl", ua_abstract("app-ctl", 7));
}

Test(config_addr_parse, length_delimited)
{
	struct sda_addr a, w = ua_ip("127.0.0.1", 80);
	const char *s = "127.0.0.1:80=web";
	cr_assert_eq(sda_addr_parse(s, 12, &a), 0);
	cr_assert_eq(sda_addr_cmp(&a, &w), 0);
	s = "/run/x.sock,more";
	cr_assert_eq(sda_addr_parse(s, 11, &a), 0);
	w = ua_path("/run/x.sock");
	cr_assert_eq(sda_addr_cmp(&a, &w), 0);
	s = "[::1]:8080";
	cr_assert_eq(sda_addr_parse(s, 8, &a), 0);  /* "[::1]:80" */
	w = ua_ip("::1", 80);
	cr_assert_eq(sda_addr_cmp(&a, &w), 0);
}

Test(config_addr_parse, unix_lengths)
{
	char p[120];
	p[0] = '/';
	memset(p + 1, 'x', sizeof p - 1);
	struct sda_addr a;
	cr_assert_eq(sda_addr_parse(p, 108, &a), 0, "a 108-byte path fits sun_path");
	cr_assert_eq(a.plen, 108u);
	cr_assert_eq(sda_addr_parse(p, 109, &a), -EINVAL, "a 109-byte path does not");
	p[0] = '@';
	cr_assert_eq(sda_addr_parse(p, 108, &a), 0, "@ + 107 bytes fits sun_path");
	cr_assert_eq(a.abstract, 1);
	cr_assert_eq(a.plen, 107u);
	cr_assert_eq(sda_addr_parse(p, 109, &a), -EINVAL, "@ + 108 bytes does not");
}

Test(config_addr_parse, malformed)
{
	static const char *const bad[] = {
		"",           "@",           "127.0.0.1",      "127.0.0.1:",    "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:123456", "127.0.0.1:80x", "127.0.0.1:-1",
		"127.0.0.1:+80", "127.0.0.1: 80", "127.1:80",     "1.2.3:80",      "256.0.0.1:80",
		"localhost:80", ":80",        "::1:80",         "[::1]",         "[::1]:",
		"[::1]80",    "[::1]:0",     "[::1:80",        "::1]:80",       "[]:80",
		"[127.0.0.1]:80", "[::g]:80", "run/relative.sock", "*:80",       "[::1]:80x",
		"[::1]x80",   "[::1].8080",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sda_addr a;
		cr_assert_eq(sda_addr_parse(bad[i], strlen(bad[i]), &a), -EINVAL, "\"%s\" accepted", bad[i]);
	}
	/* an embedded NUL inside the length */
	struct sda_addr a;
	cr_assert_eq(sda_addr_parse("/run/a\0b", 8, &a), -EINVAL);
	cr_assert_eq(sda_addr_parse("@a\0b", 4, &a), -EINVAL);
}

/* ---- SDADOPT_MAP ----------------------------------------------------------- */

Test(config_map, empty_and_free)
{
	struct sda_map m;
	size_t ne = 99;
	memset(&m, 0x5A, sizeof m);
	cr_assert_eq(sda_map_parse(NULL, &m, NULL, 0, &ne), 0);
	cr_assert_eq(m.n, 0u);
	cr_assert_eq(ne, 0u);
	sda_map_free(&m);
	memset(&m, 0x5A, sizeof m);
	cr_assert_eq(sda_map_parse("", &m, NULL, 0, &ne), 0);
	cr_assert_eq(m.n, 0u);
	cr_assert_eq(ne, 0u);
	sda_map_free(&m);
	memset(&m, 0, sizeof m);
	sda_map_free(&m);
}

static const struct sda_map_entry *map_find(const struct sda_map *m, struct sda_addr a)
{
	for (size_t i = 0; i < m->n; i++)
		if (sda_addr_cmp(&m->e[i].addr, &a) == 0)
			return &m->e[i];
	return NULL;
}

Test(config_map, entries_sorted_and_named)
{
	struct sda_map m;
	struct sda_map_error errs[4];
	size_t ne = 99;
	char in[] = "[::1]:80=v6,/run/a.sock=unix,127.0.0.1:8080=web,@abs=ab,0.0.0.0:53=dns";
	cr_assert_eq(sda_map_parse(in, &m, errs, 4, &ne), 0);
	cr_assert_eq(ne, 0u, "errors: %zu (%s)", ne, ne ? errs[0].why : "");
	cr_assert_eq(m.n, 5u);
	for (size_t i = 1; i < m.n; i++)
		cr_assert_lt(sda_addr_cmp(&m.e[i - 1].addr, &m.e[i].addr), 0, "entries not sorted at %zu", i);
	static const struct {
		const char *name;
	} names[] = {{"v6"}, {"unix"}, {"web"}, {"ab"}, {"dns"}};
	struct sda_addr keys[5] = {
		ua_ip("::1", 80), ua_path("/run/a.sock"), ua_ip("127.0.0.1", 8080), ua_abstract("abs", 3),
		ua_ip("0.0.0.0", 53),
	};
	/* the names are a private copy */
	memset(in, 'X', sizeof in - 1);
	for (int i = 0; i < 5; i++) {
		const struct sda_map_entry *e = map_find(&m, keys[i]);
		cr_assert_not_null(e, "key %d missing", i);
		cr_assert_str_eq(e->name, names[i].name);
		for (int k = 0; k < SDA_MAP_CANDIDATES; k++)
			cr_assert_eq(e->cand[k], -1, "candidates before resolution must be -1");
	}
	sda_map_free(&m);
}

Test(config_map, split_at_last_equals)
{
	struct sda_map m;
	size_t ne;
	cr_assert_eq(sda_map_parse("/run/a=b.sock=web", &m, NULL, 0, &ne), 0);
	cr_assert_eq(ne, 0u);
	cr_assert_eq(m.n, 1u);
	struct sda_addr w = ua_path("/run/a=b.sock");
	cr_assert_eq(sda_addr_cmp(&m.e[0].addr, &w), 0);
	cr_assert_str_eq(m.e[0].name, "web");
	sda_map_free(&m);
}

Test(config_map, malformed_entries_left_out_and_reported)
{
	static const char *const bad[] = {
		"web",                   /* no '=' */
		"127.0.0.1:80=",         /* empty name */
		"=web",                  /* empty address */
		"127.0.0.1=web",         /* no port */
		"127.0.0.1:0=web",       /* port 0 */
		"localhost:80=web",      /* not numeric */
		"[::1]=web",
		"relative.sock=web",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char in[128];
		snprintf(in, sizeof in, "127.0.0.1:1=ok,%s,/run/z.sock=z", bad[i]);
		struct sda_map m;
		struct sda_map_error errs[4];
		size_t ne = 0;
		cr_assert_eq(sda_map_parse(in, &m, errs, 4, &ne), 0);
		cr_assert_eq(ne, 1u, "\"%s\": %zu errors", bad[i], ne);
		cr_assert_eq(m.n, 2u, "\"%s\": %zu entries kept", bad[i], m.n);
		cr_assert_not_null(errs[0].why);
		cr_assert_eq(errs[0].entry, in + strlen("127.0.0.1:1=ok,"), "\"%s\": entry does not point at it", bad[i]);
		cr_assert_eq(errs[0].len, strlen(bad[i]), "\"%s\": len %zu", bad[i], errs[0].len);
		struct sda_addr k1 = ua_ip("127.0.0.1", 1), k2 = ua_path("/run/z.sock");
		cr_assert_not_null(map_find(&m, k1));
		cr_assert_not_null(map_find(&m, k2));
		sda_map_free(&m);
	}
}

Test(config_map, long_name)
{
	char in[400];
	int n = snprintf(in, sizeof in, "127.0.0.1:80=");
	memset(in + n, 'n', 255);
	in[n + 255] = '\0';
	struct sda_map m;
	size_t ne;
	cr_assert_eq(sda_map_parse(in, &m, NULL, 0, &ne), 0);
	cr_assert_eq(ne, 0u, "a 255-byte name (systemd's limit) is fine");
	cr_assert_eq(m.n, 1u);
	cr_assert_eq(strlen(m.e[0].name), 255u);
	sda_map_free(&m);
	in[n + 255] = 'n';
	in[n + 256] = '\0';
	cr_assert_eq(sda_map_parse(in, &m, NULL, 0, &ne), 0);
	cr_assert_eq(ne, 1u, "a 256-byte name is too long");
	cr_assert_eq(m.n, 0u);
	sda_map_free(&m);
}

Test(config_map, duplicate_address)
{
	struct sda_map m;
	struct sda_map_error errs[2];
	size_t ne;
	const char *in = "127.0.0.1:80=a,127.0.0.1:80=b";
	cr_assert_eq(sda_map_parse(in, &m, errs, 2, &ne), 0);
	cr_assert_eq(ne, 1u);
	cr_assert_eq(m.n, 1u);
	cr_assert_str_eq(m.e[0].name, "a", "the first mapping of an address wins");
	cr_assert_eq(errs[0].entry, in + 15);
	sda_map_free(&m);
}

Test(config_map, errors_counted_beyond_cap)
{
	struct sda_map m;
	struct sda_map_error errs[2];
	memset(errs, 0x5A, sizeof errs);
	size_t ne;
	cr_assert_eq(sda_map_parse("a,b,127.0.0.1:9=ok,c", &m, errs, 1, &ne), 0);
	cr_assert_eq(ne, 3u, "every error is counted");
	cr_assert_eq(m.n, 1u);
	cr_assert_not_null(errs[0].why);
	unsigned char untouched[sizeof errs[1]];
	memset(untouched, 0x5A, sizeof untouched);
	cr_assert_arr_eq(&errs[1], untouched, sizeof untouched, "wrote past cap");
	sda_map_free(&m);
	cr_assert_eq(sda_map_parse("a,b", &m, NULL, 0, &ne), 0);
	cr_assert_eq(ne, 2u);
	sda_map_free(&m);
}

Test(config_map, max_entries)
{
	static char in[SDA_MAP_MAX * 24 + 32];
	size_t off = 0;
	for (int i = 0; i < SDA_MAP_MAX; i++)
		off += (size_t)snprintf(in + off, sizeof in - off, "%s127.0.0.1:%d=n%d", i ? "," : "", 1000 + i, i);
	struct sda_map m;
	size_t ne;
	cr_assert_eq(sda_map_parse(in, &m, NULL, 0, &ne), 0);
	cr_assert_eq(ne, 0u);
	cr_assert_eq(m.n, (size_t)SDA_MAP_MAX);
	sda_map_free(&m);
	snprintf(in + off, sizeof in - off, ",127.0.0.1:9=x");
	cr_assert_eq(sda_map_parse(in, &m, NULL, 0, &ne), 0);
	cr_assert_geq(ne, 1u, "more than SDA_MAP_MAX entries must be reported");
	cr_assert_leq(m.n, (size_t)SDA_MAP_MAX);
	sda_map_free(&m);
}
