/* SPDX-License-Identifier: MIT */
/* Unit tests of core/addr: decoding, ordering, wildcard, text, v4-mapped. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "addr.h"
#include "unit_util.h"

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)

/* ---- sda_addr_from_sockaddr --------------------------------------------- */

Test(addr_decode, inet)
{
	struct sockaddr_in s;
	struct sda_addr a;
	memset(&s, 0, sizeof s);
	s.sin_family = AF_INET;
	s.sin_port = htons(8080);
	s.sin_addr.s_addr = htonl(0x7f000001);
	memset(&a, 0xEE, sizeof a);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&s, sizeof s, &a), 0);
	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(a.port, 8080, "port must be host order, got %u", a.port);
	static const unsigned char ip[4] = {127, 0, 0, 1};
	cr_assert_arr_eq(a.ip, ip, 4);
}

Test(addr_decode, inet_longer_length_ok)
{
	/* sockaddr_storage-sized lengths are legal for bind(). */
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;
	struct sda_addr a;
	memset(&ss, 0, sizeof ss);
	s->sin_family = AF_INET;
	s->sin_port = htons(1);
	s->sin_addr.s_addr = htonl(0x0a000002);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, sizeof ss, &a), 0);
	cr_assert_eq(a.port, 1);
	static const unsigned char ip[4] = {10, 0, 0, 2};
	cr_assert_arr_eq(a.ip, ip, 4);
}

Test(addr_decode, inet6_with_scope)
{
	struct sockaddr_in6 s;
	struct sda_addr a;
	memset(&s, 0, sizeof s);
	s.sin6_family = AF_INET6;
	s.sin6_port = htons(443);
	s.sin6_scope_id = 7;
	cr_assert_eq(inet_pton(AF_INET6, "fe80::1:2", &s.sin6_addr), 1);
	memset(&a, 0xEE, sizeof a);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&s, sizeof s, &a), 0);
	cr_assert_eq(a.family, AF_INET6);
	cr_assert_eq(a.port, 443);
	cr_assert_eq(a.scope_id, 7u);
	cr_assert_arr_eq(a.ip, &s.sin6_addr, 16);
}

Test(addr_decode, too_short_is_einval)
{
	struct sockaddr_storage ss;
	struct sda_addr a;
	memset(&ss, 0, sizeof ss);

	ss.ss_family = AF_INET;
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, sizeof(struct sockaddr_in) - 1, &a), -EINVAL);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, sizeof(sa_family_t), &a), -EINVAL);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, 1, &a), -EINVAL);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, 0, &a), -EINVAL);

	ss.ss_family = AF_INET6;
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, sizeof(struct sockaddr_in6) - 1, &a), -EINVAL);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, sizeof(struct sockaddr_in), &a), -EINVAL);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, 0, &a), -EINVAL);

	ss.ss_family = AF_UNIX;
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, 1, &a), -EINVAL);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, 0, &a), -EINVAL);
}

Test(addr_decode, unix_path_with_and_without_nul)
{
	struct sockaddr_un su;
	struct sda_addr a, b, c;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, "/run/x.sock");
	size_t pl = strlen("/run/x.sock");

	memset(&a, 0xEE, sizeof a);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, SUN_OFF + pl + 1, &a), 0);
	cr_assert_eq(a.family, AF_UNIX);
	cr_assert_eq(a.abstract, 0);
	cr_assert_eq(a.port, 0);
	cr_assert_eq(a.plen, pl);
	cr_assert_str_eq(a.path, "/run/x.sock");

	memset(&b, 0x11, sizeof b);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, SUN_OFF + pl, &b), 0);
	cr_assert_eq(b.abstract, 0);
	cr_assert_eq(b.plen, pl);
	cr_assert_str_eq(b.path, "/run/x.sock", "path must be NUL terminated even when the length has no NUL");

	/* What most servers pass: sizeof(struct sockaddr_un); the path ends at the NUL
	 * even if garbage follows it. */
	memset(su.sun_path + pl + 1, 'G', sizeof su.sun_path - pl - 1);
	memset(&c, 0x22, sizeof c);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, sizeof su, &c), 0);
	cr_assert_eq(c.plen, pl);
	cr_assert_str_eq(c.path, "/run/x.sock");

	cr_assert_eq(sda_addr_cmp(&a, &b), 0, "same path, different lengths must compare equal");
	cr_assert_eq(sda_addr_cmp(&a, &c), 0);
	cr_assert_eq(sda_addr_cmp(&b, &c), 0);
}

Test(addr_decode, unix_relative_path)
{
	struct sda_addr a = ua_path("x.sock");
	cr_assert_eq(a.abstract, 0);
	cr_assert_eq(a.plen, 6u);
	cr_assert_str_eq(a.path, "x.sock");
}

Test(addr_decode, unix_path_of_108_bytes)
{
	/* The kernel accepts a sun_path filling all 108 bytes with no NUL. */
	struct sockaddr_un su;
	struct sda_addr a, b;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	memset(su.sun_path, 'p', sizeof su.sun_path);
	su.sun_path[0] = '/';
	cr_assert_eq(sizeof su.sun_path, 108u);
	memset(&a, 0xEE, sizeof a);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, sizeof su, &a), 0);
	cr_assert_eq(a.family, AF_UNIX);
	cr_assert_eq(a.abstract, 0);
	cr_assert_eq(a.plen, 108u);
	cr_assert_arr_eq(a.path, su.sun_path, 108);
	cr_assert_eq(a.path[108], '\0', "path[] must stay NUL terminated");

	/* differs only in the last byte: must not compare equal */
	su.sun_path[107] = 'q';
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, sizeof su, &b), 0);
	cr_assert_eq(b.plen, 108u);
	cr_assert_neq(sda_addr_cmp(&a, &b), 0);

	/* formatting reads exactly plen bytes: "/" + 107 'p' */
	char buf[256];
	size_t n = sda_addr_format(&a, buf, sizeof buf);
	cr_assert_eq(n, 108u, "formatted length %zu", n);
	cr_assert_eq(strlen(buf), 108u);
	cr_assert_eq(buf[0], '/');
	for (int i = 1; i < 108; i++)
		cr_assert_eq(buf[i], 'p', "byte %d is 0x%02x", i, (unsigned char)buf[i]);
}

Test(addr_decode, unix_abstract_with_embedded_nul)
{
	struct sockaddr_un su;
	struct sda_addr a;
	static const char name[] = {'a', '\0', 'b', '\0'};
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	memcpy(su.sun_path + 1, name, sizeof name);
	memset(&a, 0xEE, sizeof a);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, SUN_OFF + 1 + sizeof name, &a), 0);
	cr_assert_eq(a.family, AF_UNIX);
	cr_assert_eq(a.abstract, 1);
	cr_assert_eq(a.plen, sizeof name, "abstract names are length-delimited, plen=%zu", a.plen);
	cr_assert_arr_eq(a.path, name, sizeof name);

	/* The length decides: "a\0b" and "a\0b\0" are different abstract names. */
	struct sda_addr shorter = ua_abstract(name, 3);
	cr_assert_eq(shorter.plen, 3u);
	cr_assert_neq(sda_addr_cmp(&a, &shorter), 0);
}

Test(addr_decode, unix_abstract_plain)
{
	struct sda_addr a = ua_abstract("name", 4);
	cr_assert_eq(a.abstract, 1);
	cr_assert_eq(a.plen, 4u);
	cr_assert_arr_eq(a.path, "name", 4);
}

Test(addr_decode, unix_unnamed_is_einval)
{
	struct sockaddr_un su;
	struct sda_addr a;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	/* getsockname() of an unbound unix socket returns just the family */
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, SUN_OFF, &a), -EINVAL);
	/* bytes beyond the length are not part of the address */
	strcpy(su.sun_path, "/beyond/the/length");
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, SUN_OFF, &a), -EINVAL);
	/* and a path is cut at the length */
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, SUN_OFF + 7, &a), 0);
	cr_assert_str_eq(a.path, "/beyond");
	cr_assert_eq(a.plen, 7u);
}

Test(addr_decode, other_family_is_eafnosupport)
{
	struct sockaddr_nl nl;
	struct sda_addr a;
	memset(&nl, 0, sizeof nl);
	nl.nl_family = AF_NETLINK;
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&nl, sizeof nl, &a), -EAFNOSUPPORT);

	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_PACKET;
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, sizeof ss, &a), -EAFNOSUPPORT);
	ss.ss_family = AF_UNSPEC;
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, sizeof ss, &a), -EAFNOSUPPORT);
}

/* ---- sda_addr_cmp -------------------------------------------------------- */

static int sgn(int x)
{
	return (x > 0) - (x < 0);
}

Test(addr_cmp, total_order)
{
	struct sda_addr v[] = {
		ua_ip("127.0.0.1", 80),
		ua_ip("127.0.0.1", 81),
		ua_ip("127.0.0.2", 80),
		ua_ip("0.0.0.0", 80),
		ua_ip("255.255.255.255", 65535),
		ua_ip("10.0.0.1", 80),
		ua_ip("::1", 80),
		ua_ip("::", 80),
		ua_ip("::", 81),
		ua_ip("::ffff:127.0.0.1", 80),
		ua_ip6_scope("fe80::1", 80, 2),
		ua_ip6_scope("fe80::1", 80, 3),
		ua_ip6_scope("fe80::1", 80, 0),
		ua_path("/a"),
		ua_path("/b"),
		ua_path("/ab"),
		ua_path("a"),
		ua_abstract("a", 1),
		ua_abstract("/a", 2),
		ua_abstract("a\0", 2),
		ua_abstract("ab", 2),
		ua_abstract("b", 1),
	};
	const size_t n = sizeof v / sizeof v[0];
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(sda_addr_cmp(&v[i], &v[i]), 0, "reflexive %zu", i);
		for (size_t j = 0; j < n; j++) {
			int ij = sgn(sda_addr_cmp(&v[i], &v[j]));
			int ji = sgn(sda_addr_cmp(&v[j], &v[i]));
			cr_assert_eq(ij, -ji, "antisymmetry %zu %zu", i, j);
			if (i != j)
				cr_assert_neq(ij, 0, "distinct addresses %zu and %zu compare equal", i, j);
			for (size_t k = 0; k < n; k++) {
				int jk = sgn(sda_addr_cmp(&v[j], &v[k]));
				if (ij < 0 && jk < 0)
					cr_assert_lt(sda_addr_cmp(&v[i], &v[k]), 0, "transitivity %zu<%zu<%zu", i, j, k);
			}
		}
	}
}

Test(addr_cmp, equality_ignores_padding)
{
	/* Same address decoded into differently pre-filled structs, and from
	 * sockaddrs with garbage in unused fields, must compare equal. */
	struct sockaddr_in s4a, s4b;
	memset(&s4a, 0, sizeof s4a);
	memset(&s4b, 0x5A, sizeof s4b);
	s4a.sin_family = s4b.sin_family = AF_INET;
	s4a.sin_port = s4b.sin_port = htons(80);
	s4a.sin_addr.s_addr = s4b.sin_addr.s_addr = htonl(0x7f000001);
	struct sda_addr a, b;
	memset(&a, 0x00, sizeof a);
	memset(&b, 0xFF, sizeof b);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&s4a, sizeof s4a, &a), 0);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&s4b, sizeof s4b, &b), 0);
	cr_assert_eq(sda_addr_cmp(&a, &b), 0);

	struct sockaddr_in6 s6a, s6b;
	memset(&s6a, 0, sizeof s6a);
	memset(&s6b, 0, sizeof s6b);
	s6a.sin6_family = s6b.sin6_family = AF_INET6;
	s6a.sin6_port = s6b.sin6_port = htons(80);
	s6b.sin6_flowinfo = htonl(0x12345); /* flow info is not part of the address */
	s6a.sin6_addr = s6b.sin6_addr = in6addr_loopback;
	memset(&a, 0x00, sizeof a);
	memset(&b, 0xFF, sizeof b);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&s6a, sizeof s6a, &a), 0);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&s6b, sizeof s6b, &b), 0);
	cr_assert_eq(sda_addr_cmp(&a, &b), 0);

	struct sda_addr p1 = ua_path("/run/p.sock");
	struct sda_addr p2;
	memset(&p2, 0xFF, sizeof p2);
	struct sockaddr_un su;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, "/run/p.sock");
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, SUN_OFF + strlen(su.sun_path) + 1, &p2), 0);
	cr_assert_eq(sda_addr_cmp(&p1, &p2), 0);
}

Test(addr_cmp, family_port_ip_distinguish)
{
	struct sda_addr a = ua_ip("127.0.0.1", 80), b = ua_ip("127.0.0.1", 80);
	cr_assert_eq(sda_addr_cmp(&a, &b), 0);
	b = ua_ip("127.0.0.1", 8080);
	cr_assert_neq(sda_addr_cmp(&a, &b), 0);
	b = ua_ip("127.0.0.2", 80);
	cr_assert_neq(sda_addr_cmp(&a, &b), 0);
	b = ua_ip("::ffff:127.0.0.1", 80);
	cr_assert_neq(sda_addr_cmp(&a, &b), 0, "AF_INET and v4-mapped AF_INET6 are different keys");
	struct sda_addr p = ua_path("/x"), q = ua_abstract("/x", 2);
	cr_assert_neq(sda_addr_cmp(&p, &q), 0, "path and abstract with the same bytes differ");
}

/* ---- sda_addr_is_wildcard ------------------------------------------------ */

Test(addr_wildcard, families)
{
	struct sda_addr a;
	a = ua_ip("0.0.0.0", 80);
	cr_assert(sda_addr_is_wildcard(&a));
	a = ua_ip("0.0.0.0", 0);
	cr_assert(sda_addr_is_wildcard(&a));
	a = ua_ip("::", 80);
	cr_assert(sda_addr_is_wildcard(&a));
	a = ua_ip("127.0.0.1", 80);
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_ip("0.0.0.1", 80);
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_ip("1.0.0.0", 80);
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_ip("255.255.255.255", 80);
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_ip("::1", 80);
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_ip("::1:0:0:0:0", 80);
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_ip("8000::", 80);
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_ip("::ffff:0.0.0.0", 80);
	cr_assert_not(sda_addr_is_wildcard(&a), "::ffff:0.0.0.0 is not the IPv6 wildcard");
	a = ua_path("/run/x.sock");
	cr_assert_not(sda_addr_is_wildcard(&a));
	a = ua_abstract("\0\0\0\0", 4);
	cr_assert_not(sda_addr_is_wildcard(&a));
}

/* ---- sda_addr_format ----------------------------------------------------- */

static void expect_format(const struct sda_addr *a, const char *want)
{
	char buf[256];
	memset(buf, 'Z', sizeof buf);
	size_t n = sda_addr_format(a, buf, sizeof buf);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(n, strlen(want), "returned %zu for \"%s\"", n, want);
}

Test(addr_format, inet)
{
	struct sda_addr a;
	a = ua_ip("127.0.0.1", 80);
	expect_format(&a, "127.0.0.1:80");
	a = ua_ip("0.0.0.0", 8080);
	expect_format(&a, "0.0.0.0:8080");
	a = ua_ip("255.255.255.255", 65535);
	expect_format(&a, "255.255.255.255:65535");
	a = ua_ip("10.1.2.3", 0);
	expect_format(&a, "10.1.2.3:0");
}

Test(addr_format, inet6)
{
	struct sda_addr a;
	a = ua_ip("::1", 80);
	expect_format(&a, "[::1]:80");
	a = ua_ip("::", 8080);
	expect_format(&a, "[::]:8080");
	a = ua_ip("2001:db8::42", 443);
	expect_format(&a, "[2001:db8::42]:443");
	a = ua_ip("::ffff:127.0.0.1", 65535);
	expect_format(&a, "[::ffff:127.0.0.1]:65535");

	/* scope: the text must at least show the address, the port and the scope */
	char buf[128];
	a = ua_ip6_scope("fe80::1", 80, 2);
	sda_addr_format(&a, buf, sizeof buf);
	cr_assert(strncmp(buf, "[fe80::1", 8) == 0, "got %s", buf);
	cr_assert(strstr(buf, "2") != NULL, "scope id missing from %s", buf);
	cr_assert(strlen(buf) >= 3 && strcmp(buf + strlen(buf) - 3, ":80") == 0, "got %s", buf);
}

Test(addr_format, unix)
{
	struct sda_addr a;
	a = ua_path("/run/x.sock");
	expect_format(&a, "/run/x.sock");
	a = ua_abstract("name", 4);
	expect_format(&a, "@name");
	a = ua_path("rel/p");
	expect_format(&a, "rel/p");
}

static void check_printable_escape(const struct sda_addr *a, const char *prefix, const char *suffix,
				   size_t raw_len)
{
	char buf[512];
	size_t n = sda_addr_format(a, buf, sizeof buf);
	cr_assert_eq(n, strlen(buf));
	for (size_t i = 0; i < n; i++)
		cr_assert(buf[i] >= 0x20 && buf[i] < 0x7f, "byte %zu of \"%s\" is 0x%02x (not escaped)", i, buf,
			  (unsigned char)buf[i]);
	cr_assert(strncmp(buf, prefix, strlen(prefix)) == 0, "\"%s\" does not start with \"%s\"", buf, prefix);
	cr_assert(n >= strlen(suffix) && strcmp(buf + n - strlen(suffix), suffix) == 0,
		  "\"%s\" does not end with \"%s\"", buf, suffix);
	/* every raw byte is represented: escapes only lengthen */
	cr_assert_gt(n, raw_len, "\"%s\" lost the non-printable bytes", buf);
}

Test(addr_format, escapes_non_printables)
{
	struct sda_addr a;
	a = ua_abstract("a\0b", 3);
	check_printable_escape(&a, "@a", "b", 1 + 3);
	a = ua_abstract("x\ty\nz\x7f", 6);
	check_printable_escape(&a, "@x", "", 1 + 6);
	a = ua_path("/tmp/a\x01" "b\x1b[31m");
	check_printable_escape(&a, "/tmp/a", "[31m", strlen("/tmp/a\x01" "b\x1b[31m"));
	/* an escape must not be confused with the same printable text */
	struct sda_addr lit = ua_abstract("a\\x00b", 6);
	char b1[128], b2[128];
	a = ua_abstract("a\0b", 3);
	sda_addr_format(&a, b1, sizeof b1);
	sda_addr_format(&lit, b2, sizeof b2);
	cr_assert_str_neq(b1, b2, "\"a\\0b\" and the literal text \"a\\\\x00b\" format the same: %s", b1);
}

static void check_truncation(const struct sda_addr *a)
{
	char full[512];
	size_t fn = sda_addr_format(a, full, sizeof full);
	cr_assert_eq(fn, strlen(full));

	for (size_t cap = 0; cap <= fn + 2; cap++) {
		char buf[520];
		memset(buf, 'Z', sizeof buf);
		size_t n = sda_addr_format(a, buf, cap);
		if (cap == 0) {
			cr_assert_eq(n, 0u, "cap 0 returned %zu", n);
			cr_assert_eq(buf[0], 'Z', "cap 0 wrote to the buffer");
			continue;
		}
		cr_assert_lt(n, cap, "cap %zu: returned %zu (must be the length written)", cap, n);
		cr_assert_eq(buf[n], '\0', "cap %zu: not NUL terminated at %zu", cap, n);
		cr_assert_eq(strlen(buf), n, "cap %zu", cap);
		for (size_t i = cap; i < sizeof buf; i++)
			cr_assert_eq(buf[i], 'Z', "cap %zu: wrote past the cap at %zu", cap, i);
		cr_assert(strncmp(buf, full, n) == 0, "cap %zu: \"%s\" is not a prefix of \"%s\"", cap, buf, full);
		if (cap > fn)
			cr_assert_str_eq(buf, full, "cap %zu is enough for the whole text", cap);
	}
}

Test(addr_format, truncation_always_terminates)
{
	struct sda_addr a;
	a = ua_ip("127.0.0.1", 8080);
	check_truncation(&a);
	a = ua_ip("2001:db8::1234:5678", 65535);
	check_truncation(&a);
	a = ua_ip6_scope("fe80::1", 80, 4);
	check_truncation(&a);
	a = ua_path("/run/some/long/path/to/the.sock");
	check_truncation(&a);
	a = ua_abstract("ab\0\x01zz", 6);
	check_truncation(&a);
}

Test(addr_format, worst_case_fits_reasonable_buffer)
{
	/* 107 non-printable bytes: escaped text must still be complete in a
	 * generous buffer and consist of printables only. */
	unsigned char raw[107];
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i % 2 ? 0x01 : 0xff);
	struct sda_addr a = ua_abstract(raw, sizeof raw);
	char buf[1024];
	size_t n = sda_addr_format(&a, buf, sizeof buf);
	cr_assert_eq(n, strlen(buf));
	cr_assert_gt(n, sizeof raw);
	cr_assert_eq(buf[0], '@');
}

/* ---- sda_type_name -------------------------------------------------------- */

Test(addr_type_name, names)
{
	cr_assert_str_eq(sda_type_name(AF_INET, SOCK_STREAM), "tcp");
	cr_assert_str_eq(sda_type_name(AF_INET6, SOCK_STREAM), "tcp");
	cr_assert_str_eq(sda_type_name(AF_INET, SOCK_DGRAM), "udp");
	cr_assert_str_eq(sda_type_name(AF_INET6, SOCK_DGRAM), "udp");
	cr_assert_str_eq(sda_type_name(AF_UNIX, SOCK_STREAM), "stream");
	cr_assert_str_eq(sda_type_name(AF_UNIX, SOCK_DGRAM), "dgram");
	cr_assert_str_eq(sda_type_name(AF_UNIX, SOCK_SEQPACKET), "seqpacket");
	/* anything else: still printable text, never NULL */
	cr_assert_not_null(sda_type_name(AF_INET, SOCK_RAW));
	cr_assert_not_null(sda_type_name(AF_UNIX, 12345));
	cr_assert_not_null(sda_type_name(AF_NETLINK, SOCK_DGRAM));
	cr_assert_not_null(sda_type_name(0, 0));
}

/* ---- sda_addr_unmap_v4 ---------------------------------------------------- */

Test(addr_unmap, v4_mapped_rewritten)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	memset(&ss, 0x77, sizeof ss);
	memset(s6, 0, sizeof *s6);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(8080);
	s6->sin6_flowinfo = htonl(5);
	s6->sin6_scope_id = 0;
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:192.0.2.33", &s6->sin6_addr), 1);
	socklen_t len = sizeof *s6;
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&ss, &len), 1);
	cr_assert_eq(len, (socklen_t)sizeof(struct sockaddr_in));
	cr_assert_eq(len, 16);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	cr_assert_eq(s4->sin_family, AF_INET);
	cr_assert_eq(ntohs(s4->sin_port), 8080);
	cr_assert_eq(ntohl(s4->sin_addr.s_addr), 0xc0000221u);
	static const unsigned char zero[8] = {0};
	cr_assert_arr_eq(s4->sin_zero, zero, 8, "sin_zero must be zeroed");
}

Test(addr_unmap, v4_mapped_loopback_high_port)
{
	struct sockaddr_in6 s6;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(65535);
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr), 1);
	socklen_t len = sizeof s6;
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&s6, &len), 1);
	cr_assert_eq(len, 16);
	struct sockaddr_in s4;
	memcpy(&s4, &s6, sizeof s4);
	cr_assert_eq(s4.sin_family, AF_INET);
	cr_assert_eq(ntohs(s4.sin_port), 65535);
	cr_assert_eq(ntohl(s4.sin_addr.s_addr), 0x7f000001u);
}

static void expect_untouched_v6(const char *ip)
{
	struct sockaddr_in6 s6, copy;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(80);
	s6.sin6_scope_id = 3;
	cr_assert_eq(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
	copy = s6;
	socklen_t len = sizeof s6;
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&s6, &len), 0, "%s rewritten", ip);
	cr_assert_eq(len, (socklen_t)sizeof s6);
	cr_assert_arr_eq(&s6, &copy, sizeof s6, "%s modified", ip);
}

Test(addr_unmap, plain_v6_untouched)
{
	expect_untouched_v6("::1");
	expect_untouched_v6("2001:db8::1");
	expect_untouched_v6("::7f00:1");          /* v4-compatible, not v4-mapped */
	expect_untouched_v6("::fffe:7f00:1");
	expect_untouched_v6("64:ff9b::7f00:1");   /* NAT64, not v4-mapped */
	expect_untouched_v6("0:0:0:0:ffff:ffff:7f00:1");
}

Test(addr_unmap, v6_wildcard_becomes_inet_any)
{
	/* getsockname() of a dual-stack [::] listener adopted by an IPv4 app */
	struct sockaddr_in6 s6;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(8080);
	s6.sin6_addr = in6addr_any;
	socklen_t len = sizeof s6;
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&s6, &len), 1);
	cr_assert_eq(len, 16);
	struct sockaddr_in s4;
	memcpy(&s4, &s6, sizeof s4);
	cr_assert_eq(s4.sin_family, AF_INET);
	cr_assert_eq(ntohs(s4.sin_port), 8080);
	cr_assert_eq(s4.sin_addr.s_addr, htonl(INADDR_ANY));
}

Test(addr_unmap, short_length_untouched)
{
	/* a truncated AF_INET6 address (len < sizeof sockaddr_in6) is left alone */
	struct sockaddr_in6 s6, copy;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(80);
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr), 1);
	copy = s6;
	socklen_t len = sizeof s6 - 4;
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&s6, &len), 0);
	cr_assert_eq(len, (socklen_t)(sizeof s6 - 4));
	cr_assert_arr_eq(&s6, &copy, sizeof s6);
}

Test(addr_unmap, inet_untouched)
{
	struct sockaddr_in s4, copy;
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	s4.sin_port = htons(80);
	s4.sin_addr.s_addr = htonl(0x7f000001);
	copy = s4;
	socklen_t len = sizeof s4;
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&s4, &len), 0);
	cr_assert_eq(len, (socklen_t)sizeof s4);
	cr_assert_arr_eq(&s4, &copy, sizeof s4);
}

Test(addr_unmap, unix_untouched)
{
	struct sockaddr_un su, copy;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, "/run/x");
	copy = su;
	socklen_t len = (socklen_t)(SUN_OFF + 7);
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&su, &len), 0);
	cr_assert_eq(len, (socklen_t)(SUN_OFF + 7));
	cr_assert_arr_eq(&su, &copy, sizeof su);
}

Test(addr_unmap, roundtrip_through_decoder)
{
	/* After unmapping, the address decodes as the AF_INET address it names. */
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	memset(&ss, 0, sizeof ss);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(4321);
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:10.20.30.40", &s6->sin6_addr), 1);
	socklen_t len = sizeof *s6;
	cr_assert_eq(sda_addr_unmap_v4((struct sockaddr *)&ss, &len), 1);
	struct sda_addr got, want = ua_ip("10.20.30.40", 4321);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&ss, len, &got), 0);
	cr_assert_eq(sda_addr_cmp(&got, &want), 0);
}

/* ---- v4-mapped: an IPv6 program on an IPv4 socket -------------------------- */

Test(addr_mapped, v4_of_and_back)
{
	struct sda_addr v4, v6, a = ua_ip("::ffff:192.0.2.7", 8080), w = ua_ip("192.0.2.7", 8080);
	cr_assert_eq(sda_addr_v4_of(&a, &v4), 1);
	cr_assert_eq(sda_addr_cmp(&v4, &w), 0, "::ffff:192.0.2.7 stands for 192.0.2.7, same port");
	cr_assert_eq(sda_addr_v4_of(&a, NULL), 1);
	cr_assert_eq(sda_addr_mapped_of(&w, &v6), 1);
	cr_assert_eq(sda_addr_cmp(&v6, &a), 0);
	/* the IPv4 wildcard */
	a = ua_ip("::ffff:0.0.0.0", 80);
	cr_assert_eq(sda_addr_v4_of(&a, &v4), 1);
	cr_assert(sda_addr_is_wildcard(&v4));
	/* not v4-mapped */
	static const char *const no[] = { "::", "::1", "::127.0.0.1", "64:ff9b::7f00:1", "::fffe:7f00:1",
					  "0:0:0:0:ffff:ffff:7f00:1", "fe80::ffff:7f00:1" };
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		a = ua_ip(no[i], 80);
		cr_assert_eq(sda_addr_v4_of(&a, &v4), 0, "%s", no[i]);
	}
	a = ua_ip("127.0.0.1", 80);
	cr_assert_eq(sda_addr_v4_of(&a, &v4), 0, "AF_INET itself is not v4-mapped");
	a = ua_path("/run/x");
	cr_assert_eq(sda_addr_mapped_of(&a, &v6), 0);
}

Test(addr_mapped, map_v6_rewrites_in_place)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	memset(&ss, 0xEE, sizeof ss);
	memset(s4, 0, sizeof *s4);
	s4->sin_family = AF_INET;
	s4->sin_port = htons(443);
	cr_assert_eq(inet_pton(AF_INET, "10.1.2.3", &s4->sin_addr), 1);
	socklen_t len = sizeof *s4;
	cr_assert_eq(sda_addr_map_v6((struct sockaddr *)&ss, &len), 1);
	cr_assert_eq(len, sizeof(struct sockaddr_in6));
	struct sockaddr_in6 want;
	memset(&want, 0, sizeof want);
	want.sin6_family = AF_INET6;
	want.sin6_port = htons(443);
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:10.1.2.3", &want.sin6_addr), 1);
	cr_assert_arr_eq(&ss, &want, sizeof want, "flowinfo and scope 0, as the kernel writes them");
	/* 0.0.0.0 is ::ffff:0.0.0.0 */
	memset(s4, 0, sizeof *s4);
	s4->sin_family = AF_INET;
	len = sizeof *s4;
	cr_assert_eq(sda_addr_map_v6((struct sockaddr *)&ss, &len), 1);
	cr_assert(IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr));
	/* not AF_INET, or short: untouched */
	len = sizeof(struct sockaddr_in6);
	cr_assert_eq(sda_addr_map_v6((struct sockaddr *)&ss, &len), 0);
	memset(s4, 0, sizeof *s4);
	s4->sin_family = AF_INET;
	len = sizeof *s4 - 1;
	cr_assert_eq(sda_addr_map_v6((struct sockaddr *)&ss, &len), 0);
	cr_assert_eq(len, sizeof *s4 - 1);
}

Test(addr_mapped, unmap_dest)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in out;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(53);
	s6.sin6_scope_id = 9;
	cr_assert_eq(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr), 1);
	cr_assert_eq(sda_addr_unmap_dest((struct sockaddr *)&s6, sizeof s6, &out), 1);
	cr_assert_eq(out.sin_family, AF_INET);
	cr_assert_eq(out.sin_port, htons(53));
	cr_assert_eq(out.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	/* RFC 2133's 24-byte sockaddr_in6 (no scope) is taken, shorter is not */
	cr_assert_eq(sda_addr_unmap_dest((struct sockaddr *)&s6, 24, &out), 1);
	cr_assert_eq(sda_addr_unmap_dest((struct sockaddr *)&s6, 23, &out), 0);
	/* "::" is the kernel's loopback: 0.0.0.0 to the IPv4 socket */
	memset(&s6.sin6_addr, 0, sizeof s6.sin6_addr);
	cr_assert_eq(sda_addr_unmap_dest((struct sockaddr *)&s6, sizeof s6, &out), 1);
	cr_assert_eq(out.sin_addr.s_addr, 0);
	/* a real IPv6 address, AF_INET, AF_UNSPEC, NULL: left to the kernel */
	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr), 1);
	cr_assert_eq(sda_addr_unmap_dest((struct sockaddr *)&s6, sizeof s6, &out), 0);
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	cr_assert_eq(sda_addr_unmap_dest((struct sockaddr *)&ss, sizeof ss, &out), 0);
	ss.ss_family = AF_INET;
	cr_assert_eq(sda_addr_unmap_dest((struct sockaddr *)&ss, sizeof ss, &out), 0);
	cr_assert_eq(sda_addr_unmap_dest(NULL, 28, &out), 0);
}
