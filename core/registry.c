/* SPDX-License-Identifier: MIT */
#include "registry.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

const char *sda_how_name(enum sda_how h)
{
	switch (h) {
	case SDA_MATCH_MAP: return "map";
	case SDA_MATCH_EXACT: return "exact";
	case SDA_MATCH_WILDCARD: return "wildcard";
	case SDA_MATCH_DUALSTACK: return "dual-stack";
	case SDA_MATCH_PORT: return "port";
	case SDA_MATCH_NONE: break;
	}
	return "none";
}

static int key_cmp(const struct sda_sock *a, const struct sda_sock *b)
{
	int c = sda_addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return (a->fd > b->fd) - (a->fd < b->fd);
}

#define PORT_WORDS (65536 / 64)

static void set_port(uint64_t *ports, const struct sda_addr *a)
{
	if (a->family == AF_INET || a->family == AF_INET6)
		ports[a->port >> 6] |= (uint64_t)1 << (a->port & 63);
}

typedef int (*idx_cmp_fn)(const struct sda_sock *e, uint32_t a, uint32_t b);

static int idx_key_cmp(const struct sda_sock *e, uint32_t a, uint32_t b)
{
	return key_cmp(&e[a], &e[b]);
}

/* Heapsort of indexes: no allocation (qsort may malloc), O(n log n). */
static void sift(const struct sda_sock *e, uint32_t *v, size_t root, size_t n, idx_cmp_fn cmp)
{
	for (;;) {
		size_t c = 2 * root + 1;
		uint32_t t;

		if (c >= n)
			return;
		if (c + 1 < n && cmp(e, v[c], v[c + 1]) < 0)
			c++;
		if (cmp(e, v[root], v[c]) >= 0)
			return;
		t = v[root];
		v[root] = v[c];
		v[c] = t;
		root = c;
	}
}

static void heapsort_idx(const struct sda_sock *e, uint32_t *v, size_t n, idx_cmp_fn cmp)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(e, v, i, n, cmp);
	for (size_t end = n; end-- > 1;) {
		uint32_t t = v[0];

		v[0] = v[end];
		v[end] = t;
		sift(e, v, 0, end, cmp);
	}
}

static int ino_cmp3(dev_t da, ino_t ia, dev_t db, ino_t ib)
{
	if (da != db)
		return da < db ? -1 : 1;
	return (ia > ib) - (ia < ib);
}

static int idx_ino_cmp(const struct sda_sock *e, uint32_t a, uint32_t b)
{
	return ino_cmp3(e[a].dev, e[a].ino, e[b].dev, e[b].ino);
}

static void *heap_zalloc(size_t n)
{
	return calloc(1, n);
}

int sda_registry_alloc(struct sda_registry *r, size_t n)
{
	return sda_registry_alloc_with(r, n, NULL);
}

int sda_registry_alloc_with(struct sda_registry *r, size_t n, sda_zalloc_fn zalloc)
{
	memset(r, 0, sizeof(*r));
	if (!n)
		return 0;
	r->not_heap = zalloc != NULL;
	if (!zalloc)
		zalloc = heap_zalloc;
	r->e = zalloc(n * sizeof(*r->e));
	r->by_key = zalloc(n * sizeof(*r->by_key));
	r->by_ino = zalloc(n * sizeof(*r->by_ino));
	r->ports = zalloc(PORT_WORDS * sizeof(*r->ports));
	if (!r->e || !r->by_key || !r->by_ino || !r->ports) {
		sda_registry_free(r);
		return -ENOMEM;
	}
	r->n = n;
	return 0;
}

void sda_registry_index(struct sda_registry *r)
{
	r->nkeys = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->e[i].usable)
			r->by_key[r->nkeys++] = (uint32_t)i;
	if (r->nkeys)
		memcpy(r->by_ino, r->by_key, r->nkeys * sizeof(*r->by_ino));
	heapsort_idx(r->e, r->by_key, r->nkeys, idx_key_cmp);
	heapsort_idx(r->e, r->by_ino, r->nkeys, idx_ino_cmp);
	if (r->ports) {
		memset(r->ports, 0, PORT_WORDS * sizeof(*r->ports));
		for (size_t k = 0; k < r->nkeys; k++)
			set_port(r->ports, &r->e[r->by_key[k]].addr);
		for (size_t m = 0; r->map && m < r->map->n; m++)
			set_port(r->ports, &r->map->e[m].addr);
	}
	for (size_t m = 0; r->map && m < r->map->n; m++) {
		struct sda_map_entry *me = &r->map->e[m];
		int k = 0;

		for (int c = 0; c < SDA_MAP_CANDIDATES; c++)
			me->cand[c] = -1;
		for (size_t i = 0; i < r->n && k < SDA_MAP_CANDIDATES; i++)
			if (r->e[i].usable && r->e[i].name && strcmp(r->e[i].name, me->name) == 0)
				me->cand[k++] = (int)i;
	}
}

int sda_registry_init(struct sda_registry *r, struct sda_sock *e, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->e = e;
	r->n = n;
	if (!n)
		return 0;
	r->by_key = calloc(n, sizeof(*r->by_key));
	r->by_ino = calloc(n, sizeof(*r->by_ino));
	r->ports = calloc(PORT_WORDS, sizeof(*r->ports));
	if (!r->by_key || !r->by_ino || !r->ports) {
		free(r->by_key);
		free(r->by_ino);
		free(r->ports);
		r->by_key = r->by_ino = NULL;
		r->ports = NULL;
		return -ENOMEM;
	}
	sda_registry_index(r);
	return 0;
}

void sda_registry_free(struct sda_registry *r)
{
	if (!r->not_heap) {
		free(r->e);
		free(r->by_key);
		free(r->by_ino);
		free(r->ports);
	}
	memset(r, 0, sizeof(*r));
}

/* First usable entry with address == key and a matching type (0 = any);
 * with dual, only a dual-stack one (not IPV6_V6ONLY). */
static long find_dual(const struct sda_registry *r, const struct sda_addr *key, int type, int dual)
{
	size_t lo = 0, hi = r->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sda_addr_cmp(&r->e[r->by_key[mid]].addr, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < r->nkeys; lo++) {
		const struct sda_sock *s = &r->e[r->by_key[lo]];

		if (sda_addr_cmp(&s->addr, key) != 0)
			break;
		if ((type == 0 || s->type == type) && !(dual && s->v6only))
			return (long)r->by_key[lo];
	}
	return -ENOENT;
}

static long find(const struct sda_registry *r, const struct sda_addr *key, int type)
{
	return find_dual(r, key, type, 0);
}

static int is_inet(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* What the app's bind asks for, beyond its address. */
struct want {
	const struct sda_addr *a;
	int v4;          /* IPv4 traffic: AF_INET, or v4-mapped AF_INET6 */
	int v4_too;      /* [::] from a socket that is not V6ONLY: IPv4 as well */
	int mapped;      /* v4-mapped AF_INET6; then `as4` is its IPv4 form */
	struct sda_addr as4;
};

/* Can the app's socket hold entry s?  One that carries the traffic the bind
 * asks for: for IPv4, an IPv4 socket or an IPv6 one that is not V6ONLY (the
 * shim translates the addresses between the two); for IPv6, an IPv6 socket,
 * and for a dual-stack [::] bind an IPv4 one too. */
static int family_fits(const struct want *w, const struct sda_sock *s)
{
	if (w->v4)
		return s->family == AF_INET || (s->family == AF_INET6 && !s->v6only);
	return s->family == w->a->family || (w->v4_too && s->family == AF_INET);
}

/* The operator's mapping: key -> a name -> the entry of that name and type. */
static long find_mapped(const struct sda_registry *r, const struct sda_addr *key,
			const struct want *w, int type)
{
	size_t lo = 0, hi = r->map ? r->map->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = sda_addr_cmp(&r->map->e[mid].addr, key);

		if (c == 0) {
			const struct sda_map_entry *me = &r->map->e[mid];
			int k;

			for (k = 0; k < SDA_MAP_CANDIDATES && me->cand[k] >= 0; k++) {
				const struct sda_sock *s = &r->e[me->cand[k]];

				if ((type == 0 || s->type == type) && family_fits(w, s))
					return me->cand[k];
			}
			/* more sockets share the name than the cache holds: look on */
			for (size_t i = k == SDA_MAP_CANDIDATES ? (size_t)me->cand[k - 1] + 1 : r->n;
			     i < r->n; i++) {
				const struct sda_sock *s = &r->e[i];

				if (s->usable && s->name && strcmp(s->name, me->name) == 0 &&
				    (type == 0 || s->type == type) && family_fits(w, s))
					return (long)i;
			}
			return -ENOENT;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

/* First usable entry of `family` with this port and type, any address;
 * with w, only one the app's socket can hold. */
static long find_port(const struct sda_registry *r, int family, uint16_t port, int type,
		      const struct want *w)
{
	struct sda_addr key = { .family = family, .port = port };
	size_t lo = 0, hi = r->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sda_addr_cmp(&r->e[r->by_key[mid]].addr, &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < r->nkeys; lo++) {
		const struct sda_sock *s = &r->e[r->by_key[lo]];

		if (s->addr.family != family || s->addr.port != port)
			break;
		if ((type == 0 || s->type == type) && (!w || family_fits(w, s)))
			return (long)r->by_key[lo];
	}
	return -ENOENT;
}

long sda_registry_same_port(const struct sda_registry *r, const struct sda_addr *want, int type)
{
	long i;

	if (!r || !is_inet(want->family) || want->port == 0)
		return -ENOENT;
	if ((i = find_port(r, want->family, want->port, type, NULL)) >= 0)
		return i;
	return find_port(r, want->family == AF_INET ? AF_INET6 : AF_INET, want->port, type, NULL);
}

static long hit(long i, enum sda_how h, enum sda_how *how)
{
	if (how)
		*how = h;
	return i;
}

long sda_registry_match(const struct sda_registry *r, const struct sda_addr *want,
			int type, enum sda_how *how)
{
	return sda_registry_match_bind(r, want, type, 0, how);
}

long sda_registry_match_bind(const struct sda_registry *r, const struct sda_addr *want,
			     int type, unsigned flags, enum sda_how *how)
{
	struct want w = { .a = want };
	struct sda_addr key, other;
	long i;

	if (how)
		*how = SDA_MATCH_NONE;
	if (!r || !r->nkeys)
		return -ENOENT;
	if (want->family != AF_UNIX && want->port == 0)
		return -ENOENT;                    /* port 0: the app wants any port */
	if (want->family == AF_UNIX && want->plen == 0)
		return -ENOENT;                    /* unnamed: autobind */
	w.mapped = sda_addr_v4_of(want, &w.as4);
	if (w.mapped && (flags & SDA_BIND_V6ONLY))
		return -ENOENT;                    /* the kernel refuses that bind */
	w.v4 = want->family == AF_INET || w.mapped;
	w.v4_too = want->family == AF_INET6 && !(flags & SDA_BIND_V6ONLY) &&
		   sda_addr_is_wildcard(want);

	/* 1. map: the bind's own form, then its other one (v4 <-> v4-mapped) */
	if ((i = find_mapped(r, want, &w, type)) >= 0 ||
	    (w.mapped && (i = find_mapped(r, &w.as4, &w, type)) >= 0) ||
	    (want->family == AF_INET && sda_addr_mapped_of(want, &other) &&
	     (i = find_mapped(r, &other, &w, type)) >= 0))
		return hit(i, SDA_MATCH_MAP, how);

	/* 2. exact (a v4-mapped one: in its own form, then as IPv4) */
	if ((i = find_dual(r, want, type, w.mapped)) >= 0 ||
	    (w.mapped && (i = find(r, &w.as4, type)) >= 0))
		return hit(i, SDA_MATCH_EXACT, how);
	if (want->family == AF_UNIX)
		return -ENOENT;

	/* 3. an inherited wildcard of the same family serves every address;
	 * for a v4-mapped bind: [::] (not V6ONLY), ::ffff:0.0.0.0, 0.0.0.0 */
	key = *want;
	memset(key.ip, 0, sizeof(key.ip));
	key.scope_id = 0;
	if (!sda_addr_is_wildcard(want) && (i = find_dual(r, &key, type, w.mapped)) >= 0)
		return hit(i, SDA_MATCH_WILDCARD, how);
	if (w.mapped && !sda_addr_is_wildcard(&w.as4)) {
		key.ip[10] = key.ip[11] = 0xff;        /* ::ffff:0.0.0.0 */
		if ((i = find_dual(r, &key, type, 1)) >= 0)
			return hit(i, SDA_MATCH_WILDCARD, how);
		key = w.as4;
		memset(key.ip, 0, sizeof(key.ip));
		if ((i = find(r, &key, type)) >= 0)
			return hit(i, SDA_MATCH_WILDCARD, how);
	}

	/* 4. dual-stack: an IPv4 bind onto a dual-stack [::] socket; a
	 * dual-stack [::] bind onto 0.0.0.0 */
	key = *want;
	memset(key.ip, 0, sizeof(key.ip));
	key.scope_id = 0;
	if (want->family == AF_INET) {
		key.family = AF_INET6;
		if ((i = find_dual(r, &key, type, 1)) >= 0)
			return hit(i, SDA_MATCH_DUALSTACK, how);
	} else if (w.v4_too) {
		key.family = AF_INET;
		if ((i = find(r, &key, type)) >= 0)
			return hit(i, SDA_MATCH_DUALSTACK, how);
	}

	/* 5. SDADOPT_MATCH=port: the bind's own family first */
	if (r->policy == SDA_POLICY_PORT && is_inet(want->family) &&
	    ((i = find_port(r, want->family, want->port, type, &w)) >= 0 ||
	     (want->family == AF_INET && (i = find_port(r, AF_INET6, want->port, type, &w)) >= 0) ||
	     ((w.mapped || w.v4_too) && (i = find_port(r, AF_INET, want->port, type, &w)) >= 0)))
		return hit(i, SDA_MATCH_PORT, how);
	return -ENOENT;
}

long sda_registry_find_path_inode(const struct sda_registry *r, dev_t dev, ino_t ino)
{
	/* Linear: unlink() of a unix path is a cold path. */
	for (size_t k = 0; r && k < r->nkeys; k++) {
		const struct sda_sock *s = &r->e[r->by_key[k]];

		if (s->path_ino && s->path_ino == ino && s->path_dev == dev)
			return (long)r->by_key[k];
	}
	return -ENOENT;
}

long sda_registry_find_inode(const struct sda_registry *r, dev_t dev, ino_t ino)
{
	size_t lo = 0, hi = r ? r->nkeys : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sda_sock *s = &r->e[r->by_ino[mid]];
		int c = ino_cmp3(s->dev, s->ino, dev, ino);

		if (c == 0)
			return (long)r->by_ino[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}
