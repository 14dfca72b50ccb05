/* SPDX-License-Identifier: MIT */
/* Unit tests of core/registry: which inherited socket serves a bind. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "probe.h"
#include "config.h"
#include "registry.h"
#include "unit_util.h"

#define P 8080

/* ---- building registries by hand ------------------------------------------ */

static void fill(struct sda_sock *s, size_t idx, struct sda_addr a, int type, int v6only)
{
	memset(s, 0, sizeof *s);
	s->fd = 1000 + (int)idx;
	s->name = "unknown";
	s->usable = 1;
	s->family = a.family;
	s->type = type;
	s->protocol = 0;
	s->listening = type != SOCK_DGRAM;
	s->v6only = a.family == AF_INET6 ? v6only : 0;
	s->dev = 42;
	s->ino = 5000 + idx;
	s->addr = a;
}

struct spec {
	struct sda_addr a;
	int type;
	int v6only;
	int usable;
};

/* Build a registry from specs (calloc'ed array, ownership to the registry). */
static void build(struct sda_registry *r, const struct spec *sp, size_t n)
{
	struct sda_sock *e = calloc(n ? n : 1, sizeof *e);
	cr_assert_not_null(e);
	for (size_t i = 0; i < n; i++) {
		fill(&e[i], i, sp[i].a, sp[i].type, sp[i].v6only);
		e[i].usable = sp[i].usable;
		if (!e[i].usable)
			e[i].why = "test: unusable";
	}
	cr_assert_eq(sda_registry_init(r, e, n), 0);
	cr_assert_eq(r->n, n);
	cr_assert_eq(r->e, e, "registry must keep the caller's array (ownership)");
}

#define U(addr, type, v6only) {(addr), (type), (v6only), 1}
#define X(addr, type, v6only) {(addr), (type), (v6only), 0}

static void expect_match(const struct sda_registry *r, struct sda_addr want, int type, long idx,
			 enum sda_how how)
{
	char txt[160];
	sda_addr_format(&want, txt, sizeof txt);
	enum sda_how got_how = (enum sda_how)-1;
	long got = sda_registry_match(r, &want, type, &got_how);
	cr_assert_eq(got, idx, "match(%s, type %d) = %ld, want %ld", txt, type, got, idx);
	if (idx >= 0)
		cr_assert_eq(got_how, how, "match(%s, type %d): how %s, want %s", txt, type, sda_how_name(got_how),
			     sda_how_name(how));
}

/* The same through sda_registry_match_bind() with flags. */
static void expect_match_bind(const struct sda_registry *r, struct sda_addr want, int type,
			      unsigned flags, long idx, enum sda_how how)
{
	char txt[160];
	sda_addr_format(&want, txt, sizeof txt);
	enum sda_how got_how = (enum sda_how)-1;
	long got = sda_registry_match_bind(r, &want, type, flags, &got_how);
	cr_assert_eq(got, idx, "match_bind(%s, type %d, flags %u) = %ld, want %ld", txt, type, flags, got, idx);
	cr_assert_eq(got_how, idx >= 0 ? how : SDA_MATCH_NONE, "match_bind(%s, type %d, flags %u): how %s, want %s",
		     txt, type, flags, sda_how_name(got_how), sda_how_name(how));
	if (!flags)
		expect_match(r, want, type, idx, how);
}

static void expect_none(const struct sda_registry *r, struct sda_addr want, int type)
{
	expect_match(r, want, type, -ENOENT, SDA_MATCH_NONE);
}

/* ---- exact ----------------------------------------------------------------- */

Test(registry_match, exact_inet)
{
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
		U(ua_ip("::1", P), SOCK_STREAM, 1),
		U(ua_ip("10.0.0.1", 53), SOCK_DGRAM, 0),
	};
	build(&r, sp, 3);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("::1", P), SOCK_STREAM, 1, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("10.0.0.1", 53), SOCK_DGRAM, 2, SDA_MATCH_EXACT);
	/* different port, different address, different family */
	expect_none(&r, ua_ip("127.0.0.1", P + 1), SOCK_STREAM);
	expect_none(&r, ua_ip("127.0.0.2", P), SOCK_STREAM);
	expect_none(&r, ua_ip("::2", P), SOCK_STREAM);
	expect_none(&r, ua_ip("10.0.0.1", 54), SOCK_DGRAM);
	/* a v4-mapped bind is an IPv4 bind: it gets the AF_INET socket */
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("::ffff:127.0.0.2", P), SOCK_STREAM);
	/* but a specific v6 address does not serve one */
	expect_none(&r, ua_ip("::ffff:0.0.0.1", P), SOCK_STREAM);
	sda_registry_free(&r);
}

Test(registry_match, exact_inet6_scope)
{
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip6_scope("fe80::1", P, 2), SOCK_STREAM, 1),
	};
	build(&r, sp, 1);
	expect_match(&r, ua_ip6_scope("fe80::1", P, 2), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip6_scope("fe80::1", P, 3), SOCK_STREAM);
	sda_registry_free(&r);
}

/* ---- wildcard ------------------------------------------------------------- */

Test(registry_match, wildcard_inet)
{
	struct sda_registry r;
	const struct spec sp[] = {U(ua_ip("0.0.0.0", P), SOCK_STREAM, 0)};
	build(&r, sp, 1);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("192.0.2.7", P), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("0.0.0.0", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("127.0.0.1", P + 1), SOCK_STREAM);
	/* an inherited IPv4 wildcard serves no IPv6 bind... */
	expect_none(&r, ua_ip("::1", P), SOCK_STREAM);
	expect_match_bind(&r, ua_ip("::", P), SOCK_STREAM, SDA_BIND_V6ONLY, -ENOENT, SDA_MATCH_NONE);
	/* ...but the IPv4 ones: v4-mapped, and dual-stack [::] */
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("::ffff:0.0.0.0", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("::", P), SOCK_STREAM, 0, SDA_MATCH_DUALSTACK);
	sda_registry_free(&r);
}

Test(registry_match, wildcard_inet6)
{
	struct sda_registry r;
	const struct spec sp[] = {U(ua_ip("::", P), SOCK_STREAM, 1)};
	build(&r, sp, 1);
	expect_match(&r, ua_ip("::1", P), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("2001:db8::5", P), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip6_scope("fe80::1", P, 2), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("::", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("::1", P + 1), SOCK_STREAM);
	/* V6ONLY [::] serves no IPv4 bind */
	expect_none(&r, ua_ip("127.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_STREAM);
	sda_registry_free(&r);
}

Test(registry_match, specific_does_not_serve_wildcard)
{
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
		U(ua_ip("::1", P), SOCK_STREAM, 1),
	};
	build(&r, sp, 2);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_STREAM);
	expect_none(&r, ua_ip("::", P), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), 0);
	sda_registry_free(&r);
}

/* ---- dual-stack ------------------------------------------------------------ */

Test(registry_match, dual_stack)
{
	struct sda_registry r;
	const struct spec sp[] = {U(ua_ip("::", P), SOCK_STREAM, 0)};
	build(&r, sp, 1);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_DUALSTACK);
	expect_match(&r, ua_ip("0.0.0.0", P), SOCK_STREAM, 0, SDA_MATCH_DUALSTACK);
	expect_match(&r, ua_ip("0.0.0.0", P), 0, 0, SDA_MATCH_DUALSTACK);
	expect_match(&r, ua_ip("::1", P), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("::", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("0.0.0.0", P + 1), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_DGRAM);
	sda_registry_free(&r);
}

Test(registry_match, dual_stack_needs_v6_wildcard)
{
	/* only [::] is dual-stack for every IPv4 address; [::1] is not */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("::1", P), SOCK_STREAM, 0),
		U(ua_ip("::ffff:127.0.0.1", P + 1), SOCK_STREAM, 0),
	};
	build(&r, sp, 2);
	expect_none(&r, ua_ip("127.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_STREAM);
	sda_registry_free(&r);
}

Test(registry_match, v6only_wildcard_no_dual_stack)
{
	struct sda_registry r;
	const struct spec sp[] = {U(ua_ip("::", P), SOCK_STREAM, 1)};
	build(&r, sp, 1);
	expect_none(&r, ua_ip("127.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), 0);
	sda_registry_free(&r);
}

Test(registry_match, dual_stack_any_type_skips_v6only_of_other_type)
{
	/* [::]:P tcp V6ONLY and [::]:P udp dual-stack (two socket units with
	 * different BindIPv6Only=).  An IPv4 bind of type 0 ("any type") must
	 * find the udp one; the tcp one cannot serve IPv4. */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("::", P), SOCK_STREAM, 1),
		U(ua_ip("::", P), SOCK_DGRAM, 0),
	};
	build(&r, sp, 2);
	expect_match(&r, ua_ip("0.0.0.0", P), SOCK_DGRAM, 1, SDA_MATCH_DUALSTACK);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_STREAM);
	expect_match(&r, ua_ip("0.0.0.0", P), 0, 1, SDA_MATCH_DUALSTACK);
	expect_match(&r, ua_ip("127.0.0.1", P), 0, 1, SDA_MATCH_DUALSTACK);
	sda_registry_free(&r);
}

/* ---- types ---------------------------------------------------------------- */

Test(registry_match, type_zero_is_any)
{
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_DGRAM, 0),
		U(ua_path("/run/a.sock"), SOCK_SEQPACKET, 0),
	};
	build(&r, sp, 2);
	expect_match(&r, ua_ip("127.0.0.1", P), 0, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_path("/run/a.sock"), 0, 1, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("127.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_path("/run/a.sock"), SOCK_STREAM);
	expect_none(&r, ua_path("/run/a.sock"), SOCK_DGRAM);
	sda_registry_free(&r);
}

Test(registry_match, tcp_and_udp_same_port)
{
	for (int order = 0; order < 2; order++) {
		struct sda_registry r;
		struct spec sp[4] = {
			U(ua_ip("0.0.0.0", 53), SOCK_STREAM, 0),
			U(ua_ip("0.0.0.0", 53), SOCK_DGRAM, 0),
			U(ua_ip("127.0.0.1", 853), SOCK_DGRAM, 0),
			U(ua_ip("127.0.0.1", 853), SOCK_STREAM, 0),
		};
		if (order) {
			struct spec t = sp[0];
			sp[0] = sp[1];
			sp[1] = t;
			t = sp[2];
			sp[2] = sp[3];
			sp[3] = t;
		}
		long tcp53 = order ? 1 : 0, udp53 = order ? 0 : 1;
		long udp853 = order ? 3 : 2, tcp853 = order ? 2 : 3;
		build(&r, sp, 4);
		expect_match(&r, ua_ip("0.0.0.0", 53), SOCK_STREAM, tcp53, SDA_MATCH_EXACT);
		expect_match(&r, ua_ip("0.0.0.0", 53), SOCK_DGRAM, udp53, SDA_MATCH_EXACT);
		expect_match(&r, ua_ip("127.0.0.1", 53), SOCK_STREAM, tcp53, SDA_MATCH_WILDCARD);
		expect_match(&r, ua_ip("127.0.0.1", 53), SOCK_DGRAM, udp53, SDA_MATCH_WILDCARD);
		expect_match(&r, ua_ip("127.0.0.1", 853), SOCK_STREAM, tcp853, SDA_MATCH_EXACT);
		expect_match(&r, ua_ip("127.0.0.1", 853), SOCK_DGRAM, udp853, SDA_MATCH_EXACT);
		expect_none(&r, ua_ip("127.0.0.1", 853), SOCK_SEQPACKET);
		sda_registry_free(&r);
	}
}

/* ---- never ------------------------------------------------------------------ */

Test(registry_match, port_zero_never)
{
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("0.0.0.0", 0), SOCK_STREAM, 0),   /* cannot come from probe; defensive */
		U(ua_ip("127.0.0.1", 0), SOCK_STREAM, 0),
		U(ua_ip("::", 0), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P), SOCK_STREAM, 0),
	};
	build(&r, sp, 4);
	expect_none(&r, ua_ip("0.0.0.0", 0), SOCK_STREAM);
	expect_none(&r, ua_ip("127.0.0.1", 0), SOCK_STREAM);
	expect_none(&r, ua_ip("127.0.0.1", 0), 0);
	expect_none(&r, ua_ip("::", 0), SOCK_STREAM);
	expect_none(&r, ua_ip("::1", 0), SOCK_STREAM);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 3, SDA_MATCH_WILDCARD);
	sda_registry_free(&r);
}

Test(registry_match, unusable_never)
{
	struct sda_registry r;
	const struct spec sp[] = {
		X(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
		X(ua_ip("0.0.0.0", P), SOCK_STREAM, 0),
		X(ua_ip("::", P), SOCK_STREAM, 0),
		X(ua_path("/run/x.sock"), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P + 1), SOCK_STREAM, 0),
		X(ua_ip("127.0.0.1", P + 1), SOCK_STREAM, 0),
	};
	build(&r, sp, 6);
	expect_none(&r, ua_ip("127.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_ip("127.0.0.1", P), 0);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_STREAM);
	expect_none(&r, ua_ip("::1", P), SOCK_STREAM);
	expect_none(&r, ua_path("/run/x.sock"), SOCK_STREAM);
	/* the unusable exact entry is skipped; the usable wildcard serves */
	expect_match(&r, ua_ip("127.0.0.1", P + 1), SOCK_STREAM, 4, SDA_MATCH_WILDCARD);
	for (size_t i = 0; i < 6; i++) {
		if (i == 4)
			continue;
		cr_assert_eq(sda_registry_find_inode(&r, 42, 5000 + i), -ENOENT, "unusable entry %zu by inode", i);
	}
	cr_assert_eq(sda_registry_find_inode(&r, 42, 5004), 4);
	sda_registry_free(&r);
}

Test(registry_match, unnamed_unix_never)
{
	struct sda_addr unnamed;
	memset(&unnamed, 0, sizeof unnamed);
	unnamed.family = AF_UNIX;
	struct sda_registry r;
	const struct spec sp[] = {
		U(unnamed, SOCK_STREAM, 0), /* cannot come from probe; defensive */
		U(ua_path("/run/x.sock"), SOCK_STREAM, 0),
	};
	build(&r, sp, 2);
	expect_none(&r, unnamed, SOCK_STREAM);
	expect_none(&r, unnamed, 0);
	sda_registry_free(&r);
}

Test(registry_match, empty_registry)
{
	struct sda_registry r;
	cr_assert_eq(sda_registry_init(&r, NULL, 0), 0);
	expect_none(&r, ua_ip("127.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_path("/x"), 0);
	cr_assert_eq(sda_registry_find_inode(&r, 0, 0), -ENOENT);
	cr_assert_eq(sda_registry_find_path_inode(&r, 0, 0), -ENOENT);
	sda_registry_free(&r);
}

/* ---- unix ------------------------------------------------------------------ */

Test(registry_match, unix_path_and_abstract)
{
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_path("/run/app/http.sock"), SOCK_STREAM, 0),
		U(ua_abstract("app-ctl", 7), SOCK_STREAM, 0),
		U(ua_abstract("a\0b", 3), SOCK_DGRAM, 0),
		U(ua_path("/run/app/log.sock"), SOCK_DGRAM, 0),
	};
	build(&r, sp, 4);
	expect_match(&r, ua_path("/run/app/http.sock"), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_abstract("app-ctl", 7), SOCK_STREAM, 1, SDA_MATCH_EXACT);
	expect_match(&r, ua_abstract("a\0b", 3), SOCK_DGRAM, 2, SDA_MATCH_EXACT);
	expect_match(&r, ua_path("/run/app/log.sock"), SOCK_DGRAM, 3, SDA_MATCH_EXACT);

	/* path decoded from an exact-length sockaddr (no NUL) still matches */
	struct sockaddr_un su;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	memcpy(su.sun_path, "/run/app/http.sock", 18);
	struct sda_addr exact_len;
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, offsetof(struct sockaddr_un, sun_path) + 18,
					    &exact_len),
		     0);
	expect_match(&r, exact_len, SOCK_STREAM, 0, SDA_MATCH_EXACT);

	/* no prefix, path/abstract confusion, or trailing-NUL confusion */
	expect_none(&r, ua_path("/run/app/http.soc"), SOCK_STREAM);
	expect_none(&r, ua_path("/run/app/http.sock2"), SOCK_STREAM);
	expect_none(&r, ua_path("run/app/http.sock"), SOCK_STREAM);
	expect_none(&r, ua_abstract("/run/app/http.sock", 18), SOCK_STREAM);
	expect_none(&r, ua_path("app-ctl"), SOCK_STREAM);
	expect_none(&r, ua_abstract("app-ctl\0", 8), SOCK_STREAM);
	expect_none(&r, ua_abstract("app-ct", 6), SOCK_STREAM);
	expect_none(&r, ua_abstract("a", 1), SOCK_DGRAM);
	/* unix has no wildcard and no port */
	expect_none(&r, ua_path("/run/app/http.sock"), SOCK_DGRAM);
	sda_registry_free(&r);
}

/* ---- precedence ------------------------------------------------------------ */

Test(registry_match, precedence_exact_wildcard_dualstack)
{
	/* all 6 orders of {[::] dual-stack, 0.0.0.0, 127.0.0.1} */
	static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	const struct spec kinds[3] = {
		U(ua_ip("::", P), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P), SOCK_STREAM, 0),
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
	};
	for (int p = 0; p < 6; p++) {
		struct spec sp[3];
		long at[3];
		for (int i = 0; i < 3; i++) {
			sp[i] = kinds[perms[p][i]];
			at[perms[p][i]] = i;
		}
		struct sda_registry r;
		build(&r, sp, 3);
		expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, at[2], SDA_MATCH_EXACT);
		expect_match(&r, ua_ip("127.0.0.1", P), 0, at[2], SDA_MATCH_EXACT);
		expect_match(&r, ua_ip("127.0.0.2", P), SOCK_STREAM, at[1], SDA_MATCH_WILDCARD);
		expect_match(&r, ua_ip("0.0.0.0", P), SOCK_STREAM, at[1], SDA_MATCH_EXACT);
		expect_match(&r, ua_ip("::1", P), SOCK_STREAM, at[0], SDA_MATCH_WILDCARD);
		sda_registry_free(&r);

		/* without the exact entry: wildcard beats dual-stack */
		struct spec sp2[2];
		long at2[3] = {-1, -1, -1};
		int k = 0;
		for (int i = 0; i < 3; i++)
			if (perms[p][i] != 2) {
				sp2[k] = kinds[perms[p][i]];
				at2[perms[p][i]] = k++;
			}
		build(&r, sp2, 2);
		expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, at2[1], SDA_MATCH_WILDCARD);
		sda_registry_free(&r);
	}
	/* only the dual-stack one */
	struct sda_registry r;
	build(&r, kinds, 1);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_DUALSTACK);
	sda_registry_free(&r);
}

Test(registry_match, exact_of_other_type_does_not_shadow_wildcard)
{
	/* 127.0.0.1:P udp exists; a tcp bind of 127.0.0.1:P is served by 0.0.0.0:P tcp */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_DGRAM, 0),
		U(ua_ip("0.0.0.0", P), SOCK_STREAM, 0),
		U(ua_ip("::", P), SOCK_DGRAM, 0),
	};
	build(&r, sp, 3);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 1, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_DGRAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("127.0.0.2", P), SOCK_DGRAM, 2, SDA_MATCH_DUALSTACK);
	sda_registry_free(&r);
}

Test(registry_match, duplicate_addresses_pick_one_of_them)
{
	/* SO_REUSEPORT groups: two inherited sockets with one address */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
		U(ua_ip("127.0.0.9", P), SOCK_STREAM, 0),
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
	};
	build(&r, sp, 3);
	enum sda_how how;
	struct sda_addr w = ua_ip("127.0.0.1", P);
	long i = sda_registry_match(&r, &w, SOCK_STREAM, &how);
	cr_assert(i == 0 || i == 2, "got %ld", i);
	cr_assert_eq(how, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("127.0.0.9", P), SOCK_STREAM, 1, SDA_MATCH_EXACT);
	sda_registry_free(&r);
}

/* ---- scale ------------------------------------------------------------------- */

Test(registry_match, many_entries)
{
	enum { N = 4096, H = N / 2, BASE = 20000 };
	struct sda_sock *e = calloc(N, sizeof *e);
	cr_assert_not_null(e);
	/* a permutation of slots: entry k (0..N-1) is stored at pos[k] */
	static long pos[N];
	for (long k = 0; k < N; k++)
		pos[k] = k;
	unsigned long long x = 0x9e3779b97f4a7c15ull;
	for (long k = N - 1; k > 0; k--) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		long j = (long)((x >> 33) % (unsigned long long)(k + 1));
		long t = pos[k];
		pos[k] = pos[j];
		pos[j] = t;
	}
	/* k < H: 127.0.0.1:(BASE+k) tcp; k >= H: 0.0.0.0:(BASE+k-H) udp;
	 * every 7th tcp one is unusable. */
	for (long k = 0; k < N; k++) {
		struct sda_sock *s = &e[pos[k]];
		if (k < H)
			fill(s, (size_t)pos[k], ua_ip("127.0.0.1", (uint16_t)(BASE + k)), SOCK_STREAM, 0);
		else
			fill(s, (size_t)pos[k], ua_ip("0.0.0.0", (uint16_t)(BASE + k - H)), SOCK_DGRAM, 0);
		if (k < H && k % 7 == 3)
			s->usable = 0;
	}
	struct sda_registry r;
	cr_assert_eq(sda_registry_init(&r, e, N), 0);
	for (long k = 0; k < H; k++) {
		uint16_t port = (uint16_t)(BASE + k);
		if (k % 7 == 3)
			expect_none(&r, ua_ip("127.0.0.1", port), SOCK_STREAM);
		else
			expect_match(&r, ua_ip("127.0.0.1", port), SOCK_STREAM, pos[k], SDA_MATCH_EXACT);
		expect_match(&r, ua_ip("127.0.0.1", port), SOCK_DGRAM, pos[k + H], SDA_MATCH_WILDCARD);
		expect_match(&r, ua_ip("0.0.0.0", port), SOCK_DGRAM, pos[k + H], SDA_MATCH_EXACT);
		expect_none(&r, ua_ip("127.0.0.2", port), SOCK_STREAM);
		expect_none(&r, ua_ip("0.0.0.0", port), SOCK_STREAM);
	}
	expect_none(&r, ua_ip("127.0.0.1", BASE + H), SOCK_STREAM);
	expect_none(&r, ua_ip("127.0.0.1", BASE - 1), SOCK_STREAM);
	expect_none(&r, ua_ip("127.0.0.1", BASE - 1), SOCK_DGRAM);
	/* inode lookups */
	for (long k = 0; k < N; k++) {
		long want = (k < H && k % 7 == 3) ? -ENOENT : pos[k];
		cr_assert_eq(sda_registry_find_inode(&r, 42, (ino_t)(5000 + pos[k])), want, "entry %ld", k);
	}
	cr_assert_eq(sda_registry_find_inode(&r, 42, 5000 + N), -ENOENT);
	cr_assert_eq(sda_registry_find_inode(&r, 43, 5000), -ENOENT);
	sda_registry_free(&r);
}

/* The O(1) pre-check a bind miss relies on: a port no usable inet entry and
 * no mapping has can match nothing, so its bit must be clear; every port
 * that can match must have its bit set. */
Test(registry_match, port_bitmap_agrees_with_match)
{
	struct spec sp[] = {
		{ ua_ip("127.0.0.1", 8080), SOCK_STREAM, 0, 1 },
		{ ua_ip("::", 9090), SOCK_STREAM, 0, 1 },
		{ ua_ip("0.0.0.0", 7070), SOCK_DGRAM, 0, 0 },      /* unusable */
	};
	struct sda_registry r;

	build(&r, sp, 3);
	cr_assert(sda_registry_port_used(&r, 8080));
	cr_assert(sda_registry_port_used(&r, 9090));
	cr_assert(!sda_registry_port_used(&r, 7070), "an unusable entry's port must not count");
	cr_assert(!sda_registry_port_used(&r, 0));
	for (unsigned p = 0; p < 65536; p++) {
		struct sda_addr w4 = ua_ip("127.0.0.1", (uint16_t)p);
		enum sda_how how;

		if (!sda_registry_port_used(&r, (uint16_t)p))
			cr_assert_lt(sda_registry_match(&r, &w4, 0, &how), 0, "port %u matched", p);
	}
	/* a mapped address's port counts too, once indexed */
	struct sda_map map;
	struct sda_map_error errs[2];
	size_t nerr;

	cr_assert_eq(sda_map_parse("0.0.0.0:6060=unknown", &map, errs, 2, &nerr), 0);
	cr_assert_eq(nerr, 0);
	cr_assert(!sda_registry_port_used(&r, 6060));
	r.map = &map;
	sda_registry_index(&r);
	cr_assert(sda_registry_port_used(&r, 6060));
	r.map = NULL;
	sda_map_free(&map);
	sda_registry_free(&r);
}

/* ---- inode lookups ----------------------------------------------------------- */

Test(registry_find, inode)
{
	struct sda_sock *e = calloc(5, sizeof *e);
	cr_assert_not_null(e);
	fill(&e[0], 0, ua_ip("127.0.0.1", 1), SOCK_STREAM, 0);
	fill(&e[1], 1, ua_ip("127.0.0.1", 2), SOCK_STREAM, 0);
	fill(&e[2], 2, ua_ip("127.0.0.1", 3), SOCK_STREAM, 0);
	fill(&e[3], 3, ua_ip("127.0.0.1", 4), SOCK_STREAM, 0);
	fill(&e[4], 4, ua_ip("127.0.0.1", 5), SOCK_STREAM, 0);
	e[0].dev = 9; e[0].ino = 100;
	e[1].dev = 8; e[1].ino = 100;   /* same ino, other dev */
	e[2].dev = 9; e[2].ino = 7;
	e[3].dev = 9; e[3].ino = (ino_t)UINT64_C(5000000000);
	e[4].dev = 9; e[4].ino = 55; e[4].usable = 0;
	struct sda_registry r;
	cr_assert_eq(sda_registry_init(&r, e, 5), 0);
	cr_assert_eq(sda_registry_find_inode(&r, 9, 100), 0);
	cr_assert_eq(sda_registry_find_inode(&r, 8, 100), 1);
	cr_assert_eq(sda_registry_find_inode(&r, 9, 7), 2);
	cr_assert_eq(sda_registry_find_inode(&r, 9, e[3].ino), 3);
	cr_assert_eq(sda_registry_find_inode(&r, 9, 55), -ENOENT, "unusable entry");
	cr_assert_eq(sda_registry_find_inode(&r, 7, 100), -ENOENT);
	cr_assert_eq(sda_registry_find_inode(&r, 9, 101), -ENOENT);
	cr_assert_eq(sda_registry_find_inode(&r, 0, 0), -ENOENT);
	sda_registry_free(&r);
}

Test(registry_find, path_inode)
{
	struct sda_sock *e = calloc(5, sizeof *e);
	cr_assert_not_null(e);
	fill(&e[0], 0, ua_path("/run/a.sock"), SOCK_STREAM, 0);
	e[0].path_dev = 5; e[0].path_ino = 77;
	fill(&e[1], 1, ua_path("/run/b.sock"), SOCK_STREAM, 0);
	e[1].path_dev = 5; e[1].path_ino = 78; e[1].usable = 0;
	fill(&e[2], 2, ua_ip("127.0.0.1", P), SOCK_STREAM, 0);          /* path 0/0 */
	fill(&e[3], 3, ua_abstract("abs", 3), SOCK_STREAM, 0);           /* path 0/0 */
	fill(&e[4], 4, ua_path("/run/c.sock"), SOCK_DGRAM, 0);
	e[4].path_dev = 6; e[4].path_ino = 77;
	struct sda_registry r;
	cr_assert_eq(sda_registry_init(&r, e, 5), 0);
	cr_assert_eq(sda_registry_find_path_inode(&r, 5, 77), 0);
	cr_assert_eq(sda_registry_find_path_inode(&r, 6, 77), 4);
	cr_assert_eq(sda_registry_find_path_inode(&r, 5, 78), -ENOENT, "unusable entry");
	cr_assert_eq(sda_registry_find_path_inode(&r, 0, 0), -ENOENT, "0/0 means 'no file', never a match");
	cr_assert_eq(sda_registry_find_path_inode(&r, 7, 77), -ENOENT);
	cr_assert_eq(sda_registry_find_path_inode(&r, 5, 79), -ENOENT);
	/* path inodes are not socket inodes and vice versa */
	cr_assert_eq(sda_registry_find_inode(&r, 5, 77), -ENOENT);
	cr_assert_eq(sda_registry_find_path_inode(&r, 42, 5000), -ENOENT);
	sda_registry_free(&r);
}

/* ---- two-step building ----------------------------------------------------- */

Test(registry_alloc, fill_index_reindex)
{
	struct sda_registry r;
	cr_assert_eq(sda_registry_alloc(&r, 3), 0);
	cr_assert_eq(r.n, 3u);
	cr_assert_not_null(r.e);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(r.e[i].usable, 0, "entries start zeroed");
	fill(&r.e[0], 0, ua_ip("0.0.0.0", P), SOCK_STREAM, 0);
	fill(&r.e[1], 1, ua_ip("127.0.0.1", P), SOCK_STREAM, 0);
	fill(&r.e[2], 2, ua_path("/run/x.sock"), SOCK_STREAM, 0);
	sda_registry_index(&r);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 1, SDA_MATCH_EXACT);
	expect_match(&r, ua_path("/run/x.sock"), SOCK_STREAM, 2, SDA_MATCH_EXACT);
	cr_assert_eq(sda_registry_find_inode(&r, 42, 5001), 1);

	r.e[1].usable = 0;
	sda_registry_index(&r);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	cr_assert_eq(sda_registry_find_inode(&r, 42, 5001), -ENOENT);

	r.e[2].addr = ua_path("/run/y.sock");
	sda_registry_index(&r);
	expect_none(&r, ua_path("/run/x.sock"), SOCK_STREAM);
	expect_match(&r, ua_path("/run/y.sock"), SOCK_STREAM, 2, SDA_MATCH_EXACT);
	sda_registry_free(&r);
}

Test(registry_alloc, zero)
{
	struct sda_registry r;
	cr_assert_eq(sda_registry_alloc(&r, 0), 0);
	sda_registry_index(&r);
	expect_none(&r, ua_ip("127.0.0.1", P), SOCK_STREAM);
	sda_registry_free(&r);
}

/* ---- with real sockets ------------------------------------------------------ */

static int listen_tcp4(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(fd, 8), 0);
	socklen_t len = sizeof sin;
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

Test(registry_real, probed_sockets)
{
	uint16_t port;
	int tcp = listen_tcp4(&port);
	/* udp on the same port number (a separate port space) */
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(udp, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (bind(udp, (struct sockaddr *)&sin, sizeof sin) < 0)
		cr_skip_test("udp port %u busy: %s", port, strerror(errno));

	char dir[] = "/tmp/sdaunit-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/r.sock", dir);
	int ux = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	strcpy(su.sun_path, path);
	cr_assert_eq(bind(ux, (struct sockaddr *)&su, sizeof su), 0);
	cr_assert_eq(listen(ux, 8), 0);

	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);

	struct sda_registry r;
	cr_assert_eq(sda_registry_alloc(&r, 4), 0);
	cr_assert_eq(sda_probe(tcp, &r.e[0]), 0);
	cr_assert_lt(sda_probe(p[0], &r.e[1]), 0);
	cr_assert_eq(r.e[1].usable, 0);
	cr_assert_eq(sda_probe(udp, &r.e[2]), 0);
	cr_assert_eq(sda_probe(ux, &r.e[3]), 0);
	sda_registry_index(&r);

	expect_match(&r, ua_ip("127.0.0.1", port), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("127.0.0.1", port), SOCK_DGRAM, 2, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("0.0.0.0", port), SOCK_STREAM);
	expect_match(&r, ua_path(path), SOCK_STREAM, 3, SDA_MATCH_EXACT);

	struct stat st;
	cr_assert_eq(fstat(tcp, &st), 0);
	cr_assert_eq(sda_registry_find_inode(&r, st.st_dev, st.st_ino), 0);
	cr_assert_eq(fstat(udp, &st), 0);
	cr_assert_eq(sda_registry_find_inode(&r, st.st_dev, st.st_ino), 2);
	cr_assert_eq(fstat(p[0], &st), 0);
	cr_assert_eq(sda_registry_find_inode(&r, st.st_dev, st.st_ino), -ENOENT, "pipe is not usable");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(sda_registry_find_path_inode(&r, st.st_dev, st.st_ino), 3);
	sda_registry_free(&r);

	close(tcp);
	close(udp);
	close(ux);
	close(p[0]);
	close(p[1]);
	unlink(path);
	rmdir(dir);
}

/* ---- names ------------------------------------------------------------------ */

Test(registry_how, names)
{
	cr_assert_str_eq(sda_how_name(SDA_MATCH_EXACT), "exact");
	cr_assert_str_eq(sda_how_name(SDA_MATCH_WILDCARD), "wildcard");
	cr_assert_str_eq(sda_how_name(SDA_MATCH_DUALSTACK), "dual-stack");
	cr_assert_str_eq(sda_how_name(SDA_MATCH_MAP), "map");
	cr_assert_str_eq(sda_how_name(SDA_MATCH_PORT), "port");
	cr_assert_not_null(sda_how_name(SDA_MATCH_NONE));
	cr_assert_str_neq(sda_how_name(SDA_MATCH_NONE), "exact");
	cr_assert_not_null(sda_how_name((enum sda_how)99));
}

/* ---- SDADOPT_MAP: explicit mapping ---------------------------------------- */

struct nspec {
	struct sda_addr a;
	int type;
	const char *name;
	int usable;
};

static void build_named(struct sda_registry *r, const struct nspec *sp, size_t n, struct sda_map *map,
			const char *maptext, enum sda_match_policy policy)
{
	struct sda_sock *e = calloc(n, sizeof *e);
	cr_assert_not_null(e);
	for (size_t i = 0; i < n; i++) {
		fill(&e[i], i, sp[i].a, sp[i].type, 0);
		e[i].name = sp[i].name;
		e[i].usable = sp[i].usable;
	}
	cr_assert_eq(sda_registry_init(r, e, n), 0);
	size_t ne = 0;
	memset(map, 0, sizeof *map);
	if (maptext) {
		cr_assert_eq(sda_map_parse(maptext, map, NULL, 0, &ne), 0);
		cr_assert_eq(ne, 0u, "map \"%s\" has %zu errors", maptext, ne);
		r->map = map;
	}
	r->policy = policy;
	sda_registry_index(r); /* resolves the map's names */
}

static void free_named(struct sda_registry *r, struct sda_map *map)
{
	sda_registry_free(r);
	sda_map_free(map);
}

Test(registry_map, mapping_first)
{
	const struct nspec sp[] = {
		{ua_ip("0.0.0.0", 80), SOCK_STREAM, "web", 1},
		{ua_ip("127.0.0.1", 8080), SOCK_STREAM, "admin", 1},
		{ua_path("/run/x.sock"), SOCK_STREAM, "ctl", 1},
		{ua_ip("0.0.0.0", 53), SOCK_DGRAM, "dns", 1},
		{ua_ip("0.0.0.0", 53), SOCK_STREAM, "dns", 1},
		{ua_ip("127.0.0.1", 81), SOCK_STREAM, "gone", 0},
	};
	struct sda_registry r;
	struct sda_map m;
	build_named(&r, sp, 6, &m,
		    "127.0.0.1:80=admin,/tmp/app.sock=ctl,127.0.0.1:9000=nope,127.0.0.1:1234=web,"
		    "127.0.0.1:8080=web,127.0.0.1:5353=dns,127.0.0.1:7=gone,/tmp/web.sock=web",
		    SDA_POLICY_EXACT);
	/* the mapping beats the wildcard (and the exact) entry */
	expect_match(&r, ua_ip("127.0.0.1", 80), SOCK_STREAM, 1, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("127.0.0.1", 8080), SOCK_STREAM, 0, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("127.0.0.1", 1234), SOCK_STREAM, 0, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("127.0.0.1", 1234), 0, 0, SDA_MATCH_MAP);
	expect_match(&r, ua_path("/tmp/app.sock"), SOCK_STREAM, 2, SDA_MATCH_MAP);
	/* the name picks among entries by type */
	expect_match(&r, ua_ip("127.0.0.1", 5353), SOCK_DGRAM, 3, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("127.0.0.1", 5353), SOCK_STREAM, 4, SDA_MATCH_MAP);
	/* a map key is one address: other addresses follow the normal rules */
	expect_match(&r, ua_ip("127.0.0.2", 80), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	/* a name nobody inherited, or only an unusable socket of that name: no adoption */
	expect_none(&r, ua_ip("127.0.0.1", 9000), SOCK_STREAM);
	expect_none(&r, ua_ip("127.0.0.1", 7), SOCK_STREAM);
	/* the mapped entry is tcp; a udp bind of the address is not mapped */
	expect_none(&r, ua_ip("127.0.0.1", 8080), SOCK_DGRAM);
	/* a unix address is never handed an inet socket */
	expect_none(&r, ua_path("/tmp/web.sock"), SOCK_STREAM);
	free_named(&r, &m);
}

Test(registry_map, map_set_later_needs_index)
{
	/* names resolve when the registry is (re)indexed */
	const struct nspec sp[] = {
		{ua_ip("0.0.0.0", 80), SOCK_STREAM, "web", 1},
	};
	struct sda_registry r;
	struct sda_map m;
	build_named(&r, sp, 1, &m, "127.0.0.1:9999=web", SDA_POLICY_EXACT);
	expect_match(&r, ua_ip("127.0.0.1", 9999), SOCK_STREAM, 0, SDA_MATCH_MAP);
	r.e[0].usable = 0;
	sda_registry_index(&r);
	expect_none(&r, ua_ip("127.0.0.1", 9999), SOCK_STREAM);
	free_named(&r, &m);
}

Test(registry_map, no_map)
{
	const struct nspec sp[] = {{ua_ip("0.0.0.0", 80), SOCK_STREAM, "web", 1}};
	struct sda_registry r;
	struct sda_map m;
	build_named(&r, sp, 1, &m, NULL, SDA_POLICY_EXACT);
	expect_match(&r, ua_ip("127.0.0.1", 80), SOCK_STREAM, 0, SDA_MATCH_WILDCARD);
	expect_none(&r, ua_ip("127.0.0.1", 81), SOCK_STREAM);
	free_named(&r, &m);
}

/* ---- v4-mapped binds (the JVM: an AF_INET6 socket binds [::ffff:a.b.c.d]) -- */

Test(registry_v4mapped, ipv4_socket_exact_and_wildcard)
{
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P + 1), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P + 2), SOCK_DGRAM, 0),
		U(ua_ip("127.0.0.1", P + 2), SOCK_STREAM, 0),
	};
	build(&r, sp, 4);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P), 0, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 1), SOCK_STREAM, 1, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("::ffff:192.0.2.1", P + 1), SOCK_STREAM, 1, SDA_MATCH_WILDCARD);
	/* ::ffff:0.0.0.0 is the IPv4 wildcard */
	expect_match(&r, ua_ip("::ffff:0.0.0.0", P + 1), SOCK_STREAM, 1, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("::ffff:0.0.0.0", P), SOCK_STREAM);
	/* the type still counts */
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 2), SOCK_DGRAM, 2, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 2), SOCK_STREAM, 3, SDA_MATCH_EXACT);
	expect_none(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_DGRAM);
	/* a scope on a mapped address means nothing (the kernel ignores it) */
	expect_match(&r, ua_ip6_scope("::ffff:127.0.0.1", P, 7), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	/* not v4-mapped: v4-compatible, NAT64 */
	expect_none(&r, ua_ip("::127.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_ip("64:ff9b::7f00:1", P), SOCK_STREAM);
	/* port 0 never */
	expect_none(&r, ua_ip("::ffff:127.0.0.1", 0), SOCK_STREAM);
	sda_registry_free(&r);
}

Test(registry_v4mapped, v6only_app_socket_matches_nothing)
{
	/* bind(V6ONLY socket, ::ffff:a.b.c.d) is EINVAL in the kernel */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
		U(ua_ip("::", P), SOCK_STREAM, 0),
	};
	build(&r, sp, 2);
	expect_match_bind(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 0, 0, SDA_MATCH_EXACT);
	expect_match_bind(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, SDA_BIND_V6ONLY, -ENOENT,
			  SDA_MATCH_NONE);
	expect_match_bind(&r, ua_ip("::ffff:0.0.0.0", P), 0, SDA_BIND_V6ONLY, -ENOENT, SDA_MATCH_NONE);
	/* the flag says nothing about other binds */
	expect_match_bind(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, SDA_BIND_V6ONLY, 0, SDA_MATCH_EXACT);
	expect_match_bind(&r, ua_ip("::1", P), SOCK_STREAM, SDA_BIND_V6ONLY, 1, SDA_MATCH_WILDCARD);
	sda_registry_free(&r);
}

Test(registry_v4mapped, own_family_first)
{
	/* an AF_INET6 socket that serves the mapped address wins within each rule;
	 * a more specific rule wins over the family */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("127.0.0.1", P), SOCK_STREAM, 0),
		U(ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 0),
		U(ua_ip("::", P + 1), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P + 1), SOCK_STREAM, 0),
		U(ua_ip("::ffff:0.0.0.0", P + 2), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P + 2), SOCK_STREAM, 0),
		U(ua_ip("0.0.0.0", P + 3), SOCK_STREAM, 0),
		U(ua_ip("::ffff:127.0.0.1", P + 3), SOCK_STREAM, 0),
	};
	build(&r, sp, 8);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 1, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 1), SOCK_STREAM, 2, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 2), SOCK_STREAM, 4, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 3), SOCK_STREAM, 7, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("::ffff:0.0.0.0", P + 2), SOCK_STREAM, 4, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("::ffff:0.0.0.0", P + 1), SOCK_STREAM, 3, SDA_MATCH_EXACT);
	/* plain IPv4 binds are unchanged (no rule takes one onto a socket bound to a
	 * v4-mapped address) */
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("127.0.0.1", P + 3), SOCK_STREAM, 6, SDA_MATCH_WILDCARD);
	sda_registry_free(&r);
}

Test(registry_v4mapped, v6only_ipv6_socket_does_not_serve_it)
{
	/* a V6ONLY [::] socket never sees IPv4 traffic: the mapped bind goes
	 * on to the IPv4 wildcard (BindIPv6Only=ipv6-only beside 0.0.0.0:P) */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("::", P), SOCK_STREAM, 1),
		U(ua_ip("0.0.0.0", P), SOCK_STREAM, 0),
		U(ua_ip("::", P + 1), SOCK_STREAM, 1),
	};
	build(&r, sp, 3);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 1, SDA_MATCH_WILDCARD);
	expect_none(&r, ua_ip("::ffff:127.0.0.1", P + 1), SOCK_STREAM);
	/* a plain IPv6 bind still gets the V6ONLY one */
	expect_match(&r, ua_ip("::1", P + 1), SOCK_STREAM, 2, SDA_MATCH_WILDCARD);
	sda_registry_free(&r);
}

Test(registry_v4mapped, dualstack_wildcard_bind_onto_ipv4_wildcard)
{
	/* the JVM's InetSocketAddress(P): [::]:P with IPV6_V6ONLY=0, under
	 * ListenStream=0.0.0.0:P */
	struct sda_registry r;
	const struct spec sp[] = {
		U(ua_ip("0.0.0.0", P), SOCK_STREAM, 0),
		U(ua_ip("127.0.0.1", P + 1), SOCK_STREAM, 0),
		U(ua_ip("::", P + 2), SOCK_STREAM, 1),
		U(ua_ip("0.0.0.0", P + 2), SOCK_STREAM, 0),
	};
	build(&r, sp, 4);
	expect_match_bind(&r, ua_ip("::", P), SOCK_STREAM, 0, 0, SDA_MATCH_DUALSTACK);
	expect_match_bind(&r, ua_ip("::", P), SOCK_STREAM, SDA_BIND_V6ONLY, -ENOENT, SDA_MATCH_NONE);
	/* only the wildcard asks for IPv4 too; only the IPv4 wildcard serves it all */
	expect_none(&r, ua_ip("::1", P), SOCK_STREAM);
	expect_none(&r, ua_ip("::", P + 1), SOCK_STREAM);
	/* an IPv6 socket of the address comes first, V6ONLY or not (as before) */
	expect_match_bind(&r, ua_ip("::", P + 2), SOCK_STREAM, 0, 2, SDA_MATCH_EXACT);
	sda_registry_free(&r);
}

Test(registry_v4mapped, map_either_form)
{
	const struct nspec sp[] = {
		{ua_ip("0.0.0.0", 80), SOCK_STREAM, "web", 1},
		{ua_ip("127.0.0.1", 8080), SOCK_STREAM, "admin", 1},
		{ua_ip("127.0.0.1", 8081), SOCK_STREAM, "v4form", 1},
		{ua_ip("127.0.0.2", 8081), SOCK_STREAM, "v6form", 1},
		{ua_ip("::1", 9000), SOCK_STREAM, "v6", 1},
	};
	struct sda_registry r;
	struct sda_map m;
	build_named(&r, sp, 5, &m,
		    "[::ffff:127.0.0.1]:80=admin,127.0.0.1:8080=web,127.0.0.1:8081=v4form,"
		    "[::ffff:127.0.0.1]:8081=v6form,[::ffff:127.0.0.1]:9000=v6",
		    SDA_POLICY_EXACT);
	/* an entry in the mapped form serves the JVM's bind, and the IPv4 one */
	expect_match(&r, ua_ip("::ffff:127.0.0.1", 80), SOCK_STREAM, 1, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("127.0.0.1", 80), SOCK_STREAM, 1, SDA_MATCH_MAP);
	/* an entry in the IPv4 form serves both too */
	expect_match(&r, ua_ip("::ffff:127.0.0.1", 8080), SOCK_STREAM, 0, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("127.0.0.1", 8080), SOCK_STREAM, 0, SDA_MATCH_MAP);
	/* both forms written: each bind's own form wins */
	expect_match(&r, ua_ip("127.0.0.1", 8081), SOCK_STREAM, 2, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", 8081), SOCK_STREAM, 3, SDA_MATCH_MAP);
	/* the family rule as for IPv4: an IPv6 socket that is not V6ONLY will do */
	expect_match(&r, ua_ip("::ffff:127.0.0.1", 9000), SOCK_STREAM, 4, SDA_MATCH_MAP);
	expect_match(&r, ua_ip("127.0.0.1", 9000), SOCK_STREAM, 4, SDA_MATCH_MAP);
	free_named(&r, &m);
}

Test(registry_v4mapped, policy_port_and_same_port)
{
	const struct nspec sp[] = {
		{ua_ip("127.0.0.2", P), SOCK_STREAM, "a", 1},
		{ua_ip("::1", P + 1), SOCK_STREAM, "b", 1},
		{ua_ip("::1", P + 2), SOCK_STREAM, "c", 1},
		{ua_ip("127.0.0.2", P + 2), SOCK_STREAM, "d", 1},
	};
	struct sda_registry r;
	struct sda_map m;
	build_named(&r, sp, 4, &m, NULL, SDA_POLICY_EXACT);
	expect_none(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM);
	free_named(&r, &m);

	build_named(&r, sp, 4, &m, NULL, SDA_POLICY_PORT);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_PORT);
	/* an AF_INET6 socket that is not V6ONLY first (build_named: V6ONLY off) */
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 1), SOCK_STREAM, 1, SDA_MATCH_PORT);
	expect_match(&r, ua_ip("::ffff:127.0.0.1", P + 2), SOCK_STREAM, 2, SDA_MATCH_PORT);
	expect_match_bind(&r, ua_ip("::ffff:127.0.0.1", P), SOCK_STREAM, SDA_BIND_V6ONLY, -ENOENT,
			  SDA_MATCH_NONE);
	/* a plain IPv6 bind still never gets an IPv4 socket */
	expect_none(&r, ua_ip("::2", P), SOCK_STREAM);
	/* [::] not V6ONLY: IPv6 first, then IPv4 */
	expect_match(&r, ua_ip("::", P), SOCK_STREAM, 0, SDA_MATCH_PORT);
	expect_match(&r, ua_ip("::", P + 2), SOCK_STREAM, 2, SDA_MATCH_PORT);
	expect_match_bind(&r, ua_ip("::", P), SOCK_STREAM, SDA_BIND_V6ONLY, -ENOENT, SDA_MATCH_NONE);
	/* strict mode's question: the port is inherited, on any family */
	struct sda_addr w = ua_ip("::ffff:10.0.0.1", P);
	cr_assert_eq(sda_registry_same_port(&r, &w, SOCK_STREAM), 0);
	free_named(&r, &m);
}

/* ---- SDADOPT_MATCH=port ---------------------------------------------------- */

Test(registry_port, policy_port)
{
	const struct nspec sp[] = {
		{ua_ip("127.0.0.1", P), SOCK_STREAM, "a", 1},
		{ua_ip("::1", P + 1), SOCK_STREAM, "b", 1},
		{ua_ip("127.0.0.1", P + 2), SOCK_DGRAM, "c", 1},
		{ua_path("/run/x.sock"), SOCK_STREAM, "d", 1},
		{ua_ip("127.0.0.1", P + 3), SOCK_STREAM, "e", 0},
	};
	struct sda_registry r;
	struct sda_map m;

	build_named(&r, sp, 5, &m, NULL, SDA_POLICY_EXACT);
	expect_none(&r, ua_ip("10.0.0.1", P), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P + 1), SOCK_STREAM);
	free_named(&r, &m);

	build_named(&r, sp, 5, &m, NULL, SDA_POLICY_PORT);
	expect_match(&r, ua_ip("127.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_EXACT);
	expect_match(&r, ua_ip("10.0.0.1", P), SOCK_STREAM, 0, SDA_MATCH_PORT);
	expect_match(&r, ua_ip("0.0.0.0", P), SOCK_STREAM, 0, SDA_MATCH_PORT);
	expect_match(&r, ua_ip("0.0.0.0", P + 1), SOCK_STREAM, 1, SDA_MATCH_PORT);
	expect_match(&r, ua_ip("0.0.0.0", P + 2), SOCK_DGRAM, 2, SDA_MATCH_PORT);
	expect_match(&r, ua_ip("0.0.0.0", P + 2), 0, 2, SDA_MATCH_PORT);
	/* still: same type, same port, usable, never port 0, never unix */
	expect_none(&r, ua_ip("0.0.0.0", P + 2), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P), SOCK_DGRAM);
	expect_none(&r, ua_ip("0.0.0.0", P + 3), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", P + 4), SOCK_STREAM);
	expect_none(&r, ua_ip("0.0.0.0", 0), SOCK_STREAM);
	expect_none(&r, ua_path("/run/y.sock"), SOCK_STREAM);
	free_named(&r, &m);
}

Test(registry_port, design_order_before_port)
{
	const struct nspec sp[] = {
		{ua_ip("::1", P), SOCK_STREAM, "v6", 1},
		{ua_ip("0.0.0.0", P), SOCK_STREAM, "any4", 1},
		{ua_ip("127.0.0.2", P + 1), SOCK_STREAM, "lo2", 1},
		{ua_ip("::1", P + 1), SOCK_STREAM, "v6b", 1},
	};
	struct sda_registry r;
	struct sda_map m;
	build_named(&r, sp, 4, &m, "10.9.9.9:8081=v6b", SDA_POLICY_PORT);
	expect_match(&r, ua_ip("10.0.0.1", P), SOCK_STREAM, 1, SDA_MATCH_WILDCARD);
	expect_match(&r, ua_ip("10.9.9.9", P + 1), SOCK_STREAM, 3, SDA_MATCH_MAP);
	/* same family first: an IPv4 bind gets the IPv4 socket of that port */
	expect_match(&r, ua_ip("127.0.0.1", P + 1), SOCK_STREAM, 2, SDA_MATCH_PORT);
	expect_match(&r, ua_ip("::2", P + 1), SOCK_STREAM, 3, SDA_MATCH_PORT);
	free_named(&r, &m);
}

Test(registry_port, same_port)
{
	const struct nspec sp[] = {
		{ua_ip("127.0.0.1", P), SOCK_STREAM, "a", 1},
		{ua_ip("::1", P + 1), SOCK_DGRAM, "b", 1},
		{ua_path("/run/x.sock"), SOCK_STREAM, "d", 1},
		{ua_ip("127.0.0.1", P + 3), SOCK_STREAM, "e", 0},
	};
	struct sda_registry r;
	struct sda_map m;
	build_named(&r, sp, 4, &m, NULL, SDA_POLICY_EXACT);
	struct sda_addr w;
	w = ua_ip("10.0.0.1", P);
	cr_assert_eq(sda_registry_same_port(&r, &w, SOCK_STREAM), 0);
	cr_assert_eq(sda_registry_same_port(&r, &w, 0), 0);
	cr_assert_eq(sda_registry_same_port(&r, &w, SOCK_DGRAM), -ENOENT);
	w = ua_ip("::", P);
	cr_assert_eq(sda_registry_same_port(&r, &w, SOCK_STREAM), 0);
	w = ua_ip("0.0.0.0", P + 1);
	cr_assert_eq(sda_registry_same_port(&r, &w, SOCK_DGRAM), 1);
	w = ua_ip("0.0.0.0", P + 3);
	cr_assert_eq(sda_registry_same_port(&r, &w, SOCK_STREAM), -ENOENT, "unusable");
	w = ua_ip("0.0.0.0", 0);
	cr_assert_eq(sda_registry_same_port(&r, &w, 0), -ENOENT, "port 0");
	w = ua_path("/run/x.sock");
	cr_assert_eq(sda_registry_same_port(&r, &w, 0), -ENOENT, "unix has no port");
	free_named(&r, &m);
}
