/* SPDX-License-Identifier: MIT */
/* Fuzz target: the registry.  A registry of hand-filled struct sda_sock
 * entries (drawn from small pools of addresses so that they collide), an
 * operator map and a policy are built from the input; every query is
 * answered by sda_registry_match() and by a brute-force linear oracle of the
 * documented precedence (design.md §3, registry.h):
 *
 *   0. port 0 (inet) and unnamed unix addresses never match; nor does a
 *      v4-mapped bind (::ffff:a.b.c.d) from a V6ONLY socket (the kernel
 *      refuses it);
 *   1. map: the bind address is in SDADOPT_MAP, in its own form or else in
 *      its other one (a.b.c.d <-> ::ffff:a.b.c.d) -> the first usable entry
 *      (LISTEN_FDS order) with that name, a matching type and a family the
 *      app's socket can hold (below); no such entry -> fall through;
 *   2. exact: same family, address, port/path, type (a v4-mapped bind: an
 *      entry it can hold); then, for a v4-mapped bind, the AF_INET entry of
 *      its IPv4 address;
 *   3. wildcard: (inet, want not itself a wildcard) an entry on the
 *      wildcard of the same family, same port and type (a v4-mapped bind:
 *      not V6ONLY); then, for a v4-mapped bind of a.b.c.d other than
 *      0.0.0.0, an AF_INET6 [::ffff:0.0.0.0] entry, then AF_INET 0.0.0.0;
 *   4. dual-stack: an AF_INET want, an AF_INET6 [::] entry (scope 0), not
 *      V6ONLY, same port and type; or an AF_INET6 [::] want from a socket
 *      that is not V6ONLY, an AF_INET 0.0.0.0 entry;
 *   5. with SDA_POLICY_PORT: an inet entry of the same port and type that
 *      the app's socket can hold, of the want's own family, else the other.
 * A family the app's socket can hold: for a bind that asks for IPv4 (AF_INET,
 * or v4-mapped AF_INET6) an AF_INET entry or an AF_INET6 one that is not
 * V6ONLY; for another AF_INET6 bind an AF_INET6 entry, and for [::] from a
 * socket that is not V6ONLY an AF_INET one too.  (Never plain IPv6 on IPv4,
 * nor IPv4 on V6ONLY.)
 * Type 0 means any type.  Among several candidates of rules 2-4 the one with
 * the lowest (type, fd) wins: "binds get the lowest fd" (the shim's warning
 * about duplicate addresses promises it).  An IPv6 scope id only names
 * something for link-local addresses (the kernel ignores it elsewhere).
 *
 * Also: sda_registry_port_used() is never 0 for a port that matches;
 * find_inode, find_path_inode and same_port against linear scans;
 * re-indexing after entries change; sda_registry_init() == alloc + index.
 *
 * Input: u8 n (1 + n % 64), u8 mapmask, u8 policy (bit 0: SDA_POLICY_PORT;
 * bits 1-2: two more map entries), n x 6 entry bytes, then 6 bytes per query
 * (up to 64).  See gen_entry() and gen_want(). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config.h"
#include "fuzz_util.h"
#include "registry.h"

#define MAXN 64

static const uint16_t port_pool[] = { 80, 443, 8080, 53, 1, 65535 };
static const char *const v4_pool[] = { "0.0.0.0", "127.0.0.1", "127.0.0.2", "10.0.0.1",
				       "255.255.255.255" };
static const char *const v6_pool[] = { "::", "::1", "::ffff:127.0.0.1", "fe80::1",
				       "2001:db8::1", "::ffff:0.0.0.0" };
static const struct {
	const char *p;
	size_t len;
} unix_pool[] = {
	{ "/run/a.sock", 11 }, { "/run/b.sock", 11 }, { "rel.sock", 8 },
	{ "x", 1 },            { "x\0y", 3 },         { "/run/a.sock/", 12 },
};
static const char *const name_pool[] = { "web", "api", "unknown", "", "web" };
static const char *const map_pool[] = {
	"127.0.0.1:80=web", "0.0.0.0:443=api", "[::]:80=api",       "/run/a.sock=web",
	"@x=api",           "[::1]:8080=web",  "10.0.0.1:53=unknown", "127.0.0.2:80=nothere",
	/* v4-mapped forms (policy bits 1, 2) */
	"[::ffff:127.0.0.1]:8080=api", "[::ffff:10.0.0.1]:443=web",
};
static const int type_pool[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };

static void fill_ip(struct sda_addr *a, uint8_t b)
{
	if (a->family == AF_INET) {
		inet_pton(AF_INET, v4_pool[b % 5], a->ip);
		return;
	}
	inet_pton(AF_INET6, v6_pool[b % 6], a->ip);
	if (b % 6 == 3)
		a->scope_id = 1 + (b >> 7);           /* link-local: a scope */
}

static void fill_unix(struct sda_addr *a, uint8_t b)
{
	a->abstract = !!(b & 0x80);
	a->plen = unix_pool[b % 6].len;
	memcpy(a->path, unix_pool[b % 6].p, a->plen);
	if (!a->abstract && memchr(a->path, '\0', a->plen))
		a->plen = strlen(a->path);            /* a path stops at a NUL */
}

static uint16_t pick_port(uint8_t b, int allow0)
{
	if (allow0 && b >= 250)
		return 0;
	return b < 240 ? port_pool[b % 6] : (uint16_t)(1000 + b);
}

static void gen_entry(struct fz *f, struct sda_sock *s, size_t i)
{
	uint8_t e0 = fz_u8(f), e1 = fz_u8(f), e2 = fz_u8(f), e3 = fz_u8(f), e4 = fz_u8(f),
		e5 = fz_u8(f);

	memset(s, 0, sizeof(*s));
	s->fd = 3 + (int)((i * 7) % MAXN);            /* unique, not in index order */
	s->name = name_pool[e5 % 5];
	s->usable = !(e0 & 0x80);
	s->why = s->usable ? NULL : "fuzz: unusable";
	s->family = e0 % 3 == 0 ? AF_INET : e0 % 3 == 1 ? AF_INET6 : AF_UNIX;
	s->type = type_pool[(e0 >> 2) % 3];
	s->listening = s->type != SOCK_DGRAM;
	s->v6only = s->family == AF_INET6 && (e0 & 0x40);
	s->dev = 1 + (e4 & 1);
	s->ino = 1 + ((e4 >> 1) & 7);
	s->addr.family = s->family;
	if (s->family == AF_UNIX) {
		fill_unix(&s->addr, e3);
		if (!s->addr.abstract && (e4 & 0x80)) {
			s->path_dev = 1;
			s->path_ino = 100 + ((e4 >> 4) & 3);
		}
	} else {
		s->addr.port = pick_port(e1, 0);
		fill_ip(&s->addr, e2);
	}
}

static int gen_want(struct fz *f, struct sda_addr *w, int *type, unsigned *flags, dev_t *dev,
		    ino_t *ino)
{
	uint8_t w0 = fz_u8(f), w1 = fz_u8(f), w2 = fz_u8(f), w3 = fz_u8(f), w4 = fz_u8(f),
		w5 = fz_u8(f);

	memset(w, 0, sizeof(*w));
	w->family = w0 % 4 == 0 ? AF_INET : w0 % 4 == 1 ? AF_INET6 : w0 % 4 == 2 ? AF_UNIX : AF_NETLINK;
	if (w->family == AF_UNIX) {
		if ((w3 & 0x7f) == 0x7f)
			w->plen = 0;                      /* unnamed */
		else
			fill_unix(w, w3);
	} else if (w->family != AF_NETLINK) {
		w->port = pick_port(w1, 1);
		fill_ip(w, w2);
		if (w->family == AF_INET6 && (w0 & 0x80))
			w->scope_id = 7;              /* a scope on any address */
	}
	*type = w4 % 4 == 0 ? 0 : type_pool[w4 % 4 - 1];
	*flags = w0 & 0x40 ? SDA_BIND_V6ONLY : 0;
	*dev = 1 + (w5 & 1);
	*ino = (w5 & 0x80) ? 100 + ((w5 >> 1) & 3) : 1 + ((w5 >> 1) & 7);
	return 0;
}

/* ---- the oracle ---- */

static int is_inet(int fam)
{
	return fam == AF_INET || fam == AF_INET6;
}

static int linklocal(const struct sda_addr *a)
{
	return a->family == AF_INET6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;
}

/* Do two addresses name the same thing? (Scope only counts for link-local.) */
static int same_addr(const struct sda_addr *a, const struct sda_addr *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == AF_UNIX)
		return a->abstract == b->abstract && a->plen == b->plen &&
		       memcmp(a->path, b->path, a->plen) == 0;
	if (a->family == AF_INET)
		return a->port == b->port && memcmp(a->ip, b->ip, 4) == 0;
	if (a->family == AF_INET6)
		return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0 &&
		       (linklocal(a) ? a->scope_id == b->scope_id : 1);
	return 0;
}

static int is_any(const struct sda_addr *a)
{
	static const unsigned char z[16];

	return (a->family == AF_INET && !memcmp(a->ip, z, 4)) ||
	       (a->family == AF_INET6 && !memcmp(a->ip, z, 16));
}

static int type_ok(const struct sda_sock *s, int type)
{
	return type == 0 || s->type == type;
}

/* The IPv4 address a v4-mapped one stands for. */
static int mapped(const struct sda_addr *a, struct sda_addr *v4)
{
	static const unsigned char pre[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family != AF_INET6 || memcmp(a->ip, pre, 12))
		return 0;
	memset(v4, 0, sizeof(*v4));
	v4->family = AF_INET;
	v4->port = a->port;
	memcpy(v4->ip, a->ip + 12, 4);
	return 1;
}

struct q {
	const struct sda_addr *w;
	unsigned flags;
	int is_mapped;        /* then v4 is its IPv4 form */
	struct sda_addr v4;
	int asks_v4;          /* AF_INET, or v4-mapped */
	int v4_too;           /* [::] from a socket that is not V6ONLY */
};

static int family_fits(const struct q *q, const struct sda_sock *s)
{
	if (q->asks_v4)
		return s->family == AF_INET || (s->family == AF_INET6 && !s->v6only);
	return s->family == q->w->family || (q->v4_too && s->family == AF_INET);
}

/* lowest (type, fd) */
static int better(const struct sda_sock *a, const struct sda_sock *b)
{
	return a->type != b->type ? a->type < b->type : a->fd < b->fd;
}

enum cls { C_EXACT, C_EXACT4, C_WILD, C_WILD_M, C_WILD4, C_DUAL, C_DUAL6, C_END };

static int wild_port(const struct sda_sock *s, int family, uint16_t port)
{
	return s->family == family && is_any(&s->addr) && s->addr.port == port &&
	       s->addr.scope_id == 0;
}

static int in_class(const struct sda_sock *s, const struct q *q, int type, enum cls c)
{
	static const unsigned char m0[16] = { [10] = 0xff, [11] = 0xff };
	const struct sda_addr *w = q->w;

	if (!s->usable || !type_ok(s, type))
		return 0;
	switch (c) {
	case C_EXACT:
		return same_addr(&s->addr, w) && (!q->is_mapped || family_fits(q, s));
	case C_EXACT4:
		return q->is_mapped && same_addr(&s->addr, &q->v4);
	case C_WILD:
		return s->family == w->family && is_inet(w->family) && !is_any(w) &&
		       wild_port(s, w->family, w->port) && (!q->is_mapped || !s->v6only);
	case C_WILD_M:
		return q->is_mapped && !is_any(&q->v4) && s->family == AF_INET6 &&
		       !memcmp(s->addr.ip, m0, 16) && s->addr.port == w->port && !s->v6only;
	case C_WILD4:
		return q->is_mapped && !is_any(&q->v4) && wild_port(s, AF_INET, w->port);
	case C_DUAL:
		return w->family == AF_INET && wild_port(s, AF_INET6, w->port) && !s->v6only;
	case C_DUAL6:
		return q->v4_too && wild_port(s, AF_INET, w->port);
	case C_END:
		break;
	}
	return 0;
}

struct expect {
	long best;            /* the one answer, or -1 when any of the class will do */
	enum sda_how how;
	int any_family;       /* SDA_MATCH_PORT: membership of this family's class */
};

static void oracle(const struct sda_registry *r, const struct sda_map *map, int policy,
		   const struct q *q, int type, struct expect *x)
{
	const struct sda_addr *w = q->w;
	struct sda_addr forms[2];
	int nforms = 0;

	x->best = -ENOENT;
	x->how = SDA_MATCH_NONE;
	if (is_inet(w->family) && w->port == 0)
		return;
	if (w->family == AF_UNIX && w->plen == 0)
		return;
	if (q->is_mapped && (q->flags & SDA_BIND_V6ONLY))
		return;
	/* the map: the want's own form, then its other one */
	forms[nforms++] = *w;
	if (q->is_mapped)
		forms[nforms++] = q->v4;
	if (w->family == AF_INET) {
		memset(&forms[1], 0, sizeof(forms[1]));
		forms[1].family = AF_INET6;
		forms[1].port = w->port;
		forms[1].ip[10] = forms[1].ip[11] = 0xff;
		memcpy(forms[1].ip + 12, w->ip, 4);
		nforms = 2;
	}
	for (int f = 0; f < nforms; f++)
		for (size_t m = 0; map && m < map->n; m++) {
			if (!same_addr(&map->e[m].addr, &forms[f]))
				continue;
			for (size_t i = 0; i < r->n; i++) {
				const struct sda_sock *s = &r->e[i];

				if (s->usable && strcmp(s->name, map->e[m].name) == 0 &&
				    type_ok(s, type) && family_fits(q, s)) {
					x->best = (long)i;
					x->how = SDA_MATCH_MAP;
					return;
				}
			}
			break;
		}
	for (enum cls c = C_EXACT; c < C_END; c++) {
		long b = -1;

		for (size_t i = 0; i < r->n; i++)
			if (in_class(&r->e[i], q, type, c) && (b < 0 || better(&r->e[i], &r->e[b])))
				b = (long)i;
		if (b >= 0) {
			x->best = b;
			x->how = c <= C_EXACT4 ? SDA_MATCH_EXACT : c <= C_WILD4 ? SDA_MATCH_WILDCARD :
						 SDA_MATCH_DUALSTACK;
			return;
		}
	}
	if (policy == SDA_POLICY_PORT && is_inet(w->family)) {
		int other = w->family == AF_INET ? AF_INET6 : AF_INET;
		int passes = w->family == AF_INET || q->is_mapped || q->v4_too ? 2 : 1;

		for (int pass = 0; pass < passes; pass++) {
			int fam = pass == 0 ? w->family : other;

			for (size_t i = 0; i < r->n; i++) {
				const struct sda_sock *s = &r->e[i];

				if (s->usable && s->family == fam && s->addr.port == w->port &&
				    type_ok(s, type) && family_fits(q, s)) {
					x->best = -1;
					x->how = SDA_MATCH_PORT;
					x->any_family = fam;
					return;
				}
			}
		}
	}
}

static const char *fmt(const struct sda_addr *a, char *buf)
{
	sda_addr_format(a, buf, 200);
	return buf;
}

static void check_query(const struct sda_registry *r, const struct sda_map *map, int policy,
			const struct sda_addr *w, int type, unsigned flags)
{
	struct expect x = { 0 };
	enum sda_how how = (enum sda_how)99;
	long got = sda_registry_match_bind(r, w, type, flags, &how);
	long got2 = sda_registry_match_bind(r, w, type, flags, NULL);
	char b1[200];
	const char *check;
	struct q q = { .w = w, .flags = flags };

	q.is_mapped = mapped(w, &q.v4);
	q.asks_v4 = w->family == AF_INET || q.is_mapped;
	q.v4_too = w->family == AF_INET6 && !(flags & SDA_BIND_V6ONLY) && is_any(w);
	if (!flags)
		FZ_CHECK("registry-match-flags", got == sda_registry_match(r, w, type, NULL),
			 "match_bind(flags 0) and match differ");
	/* flags only take candidates away: the shim's cheap first pass (flags 0) never misses */
	if (got >= 0)
		FZ_CHECK("registry-match-flags", sda_registry_match(r, w, type, NULL) >= 0,
			 "a match with flags %u, none without", flags);
	oracle(r, map, policy, &q, type, &x);
	check = q.is_mapped || q.v4_too ? "registry-v4-mapped" : NULL;
	FZ_CHECK("registry-how-null", got == got2, "match with how=NULL differs");
	/* the O(1) pre-check: a clear port bit is a certain miss */
	if (is_inet(w->family) && !sda_registry_port_used(r, w->port))
		FZ_CHECK("registry-ports", got < 0 && x.how == SDA_MATCH_NONE,
			 "port %u not in the bitmap, yet match %ld / oracle %s", w->port, got,
			 sda_how_name(x.how));
	check = check ? check : x.how == SDA_MATCH_MAP ? "registry-map" :
		x.how == SDA_MATCH_DUALSTACK ? "registry-dualstack" :
		x.how == SDA_MATCH_PORT ? "registry-port" :
		w->family == AF_INET6 && w->scope_id && !linklocal(w) ? "registry-scope" :
		"registry-match";
	if (got < 0) {
		FZ_CHECK("registry-how", how == SDA_MATCH_NONE, "miss with how=%d", (int)how);
		FZ_CHECK(check, x.how == SDA_MATCH_NONE,
			 "match(%s type %d) missed; oracle: entry %ld (fd %d) [%s]", fmt(w, b1), type,
			 x.best, x.best >= 0 ? r->e[x.best].fd : -1, sda_how_name(x.how));
		return;
	}
	FZ_CHECK("registry-bounds", (size_t)got < r->n && r->e[got].usable,
		 "match returned %ld: out of range or unusable", got);
	if (x.how == SDA_MATCH_NONE) {
		FZ_CHECK(check, 0, "match(%s type %d) = entry %ld (fd %d) [%s]; oracle: no match",
			 fmt(w, b1), type, got, r->e[got].fd, sda_how_name(how));
		return;
	}
	FZ_CHECK(check, how == x.how, "match(%s type %d): how %s, oracle %s", fmt(w, b1), type,
		 sda_how_name(how), sda_how_name(x.how));
	if (x.best >= 0)
		FZ_CHECK(check, got == x.best,
			 "match(%s type %d) [%s] = entry %ld (fd %d), oracle entry %ld (fd %d)",
			 fmt(w, b1), type, sda_how_name(how), got, r->e[got].fd, x.best,
			 r->e[x.best].fd);
	else
		FZ_CHECK(check,
			 r->e[got].family == x.any_family && r->e[got].addr.port == w->port &&
				 type_ok(&r->e[got], type) && family_fits(&q, &r->e[got]),
			 "match(%s type %d) [port] = entry %ld: wrong port, type or family",
			 fmt(w, b1), type, got);
}

static void check_lookups(const struct sda_registry *r, const struct sda_addr *w, int type,
			  dev_t dev, ino_t ino)
{
	long i = sda_registry_find_inode(r, dev, ino);
	int exists = 0, pexists = 0;

	for (size_t k = 0; k < r->n; k++) {
		exists |= r->e[k].usable && r->e[k].dev == dev && r->e[k].ino == ino;
		pexists |= r->e[k].usable && r->e[k].path_ino && r->e[k].path_ino == ino &&
			   r->e[k].path_dev == dev;
	}
	FZ_CHECK("registry-inode",
		 exists ? i >= 0 && (size_t)i < r->n && r->e[i].usable && r->e[i].dev == dev &&
				  r->e[i].ino == ino :
			  i == -ENOENT,
		 "find_inode(%lu, %lu) = %ld, exists %d", (unsigned long)dev, (unsigned long)ino, i,
		 exists);
	i = sda_registry_find_path_inode(r, dev, ino);
	FZ_CHECK("registry-path-inode",
		 pexists ? i >= 0 && (size_t)i < r->n && r->e[i].usable &&
				   r->e[i].path_ino == ino && r->e[i].path_dev == dev :
			   i == -ENOENT,
		 "find_path_inode(%lu, %lu) = %ld, exists %d", (unsigned long)dev,
		 (unsigned long)ino, i, pexists);

	/* same_port: any usable inet entry of that port and type */
	i = sda_registry_same_port(r, w, type);
	exists = 0;
	for (size_t k = 0; k < r->n; k++)
		exists |= is_inet(w->family) && w->port && r->e[k].usable &&
			  is_inet(r->e[k].family) && r->e[k].addr.port == w->port &&
			  type_ok(&r->e[k], type);
	FZ_CHECK("registry-same-port",
		 exists ? i >= 0 && (size_t)i < r->n && r->e[i].usable &&
				  r->e[i].addr.port == w->port && type_ok(&r->e[i], type) :
			  i == -ENOENT,
		 "same_port = %ld, exists %d", i, exists);
}

struct query {
	struct sda_addr w;
	int type;
	unsigned flags;
	dev_t dev;
	ino_t ino;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct sda_registry r, r2;
	struct sda_map map, map2;
	struct sda_map_error errs[8];
	struct query q[64];
	size_t n = 1 + fz_u8(&f) % MAXN, nq = 0, nerrs;
	uint8_t mapmask = fz_u8(&f), flip = 0;
	uint8_t pol = fz_u8(&f);
	int policy = pol & 1 ? SDA_POLICY_PORT : SDA_POLICY_EXACT;
	char mapstr[512] = "";
	struct sda_sock *copy;

	for (int k = 0; k < 10; k++)
		if (k < 8 ? mapmask & (1u << k) : pol & (1u << (k - 7))) {
			if (*mapstr)
				strcat(mapstr, ",");
			strcat(mapstr, map_pool[k]);
		}
	if (sda_map_parse(mapstr, &map, errs, 8, &nerrs) < 0 ||
	    sda_map_parse(mapstr, &map2, errs, 8, &nerrs) < 0)
		abort();
	FZ_CHECK("registry-mapparse", nerrs == 0, "the map pool does not parse: %s", mapstr);

	if (sda_registry_alloc(&r, n) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		gen_entry(&f, &r.e[i], i);
	r.map = &map;
	r.policy = policy;
	sda_registry_index(&r);
	while (nq < 64 && f.n >= 6) {
		gen_want(&f, &q[nq].w, &q[nq].type, &q[nq].flags, &q[nq].dev, &q[nq].ino);
		nq++;
	}
	flip = nq ? (uint8_t)q[0].w.port : 0;

	/* the same entries through sda_registry_init() */
	copy = calloc(n, sizeof(*copy));
	if (!copy)
		abort();
	memcpy(copy, r.e, n * sizeof(*copy));
	if (sda_registry_init(&r2, copy, n) < 0)
		abort();
	r2.map = &map2;
	r2.policy = policy;
	sda_registry_index(&r2);                  /* resolve r2's map */

	for (int round = 0; round < 2; round++) {
		for (size_t k = 0; k < nq; k++) {
			enum sda_how h1, h2;
			long a, b;

			check_query(&r, &map, policy, &q[k].w, q[k].type, q[k].flags);
			check_lookups(&r, &q[k].w, q[k].type, q[k].dev, q[k].ino);
			a = sda_registry_match_bind(&r, &q[k].w, q[k].type, q[k].flags, &h1);
			b = sda_registry_match_bind(&r2, &q[k].w, q[k].type, q[k].flags, &h2);
			FZ_CHECK("registry-init", a == b && h1 == h2,
				 "registry_init and alloc+index disagree: %ld/%d vs %ld/%d", a, (int)h1,
				 b, (int)h2);
		}
		/* entries change (a probe found some unusable): index again */
		for (size_t i = 0; i < n; i++)
			if ((i + flip) % 3 == 0) {
				r.e[i].usable = !r.e[i].usable;
				r2.e[i].usable = r.e[i].usable;
			}
		sda_registry_index(&r);
		sda_registry_index(&r);           /* idempotent */
		sda_registry_index(&r2);
	}
	sda_registry_free(&r);
	sda_registry_free(&r2);
	sda_map_free(&map);
	sda_map_free(&map2);
	return 0;
}
