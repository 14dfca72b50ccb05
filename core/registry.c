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

/* Can an app socket of `family` hold entry s?  The same family; or an IPv4
 * app on a dual-stack IPv6 socket (the shim translates its addresses).  Never
 * an IPv6 app on an IPv4 socket, nor IPv4 on an IPV6_V6ONLY one. */
static int family_fits(int family, const struct sda_sock *s)
{
	return s->family == family ||
	       (family == AF_INET && s->family == AF_INET6 && !s->v6only);
}

/* The operator's mapping: want -> a name -> the entry of that name and type. */
static long find_mapped(const struct sda_registry *r, const struct sda_addr *want, int type)
{
	size_t lo = 0, hi = r->map ? r->map->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = sda_addr_cmp(&r->map->e[mid].addr, want);

		if (c == 0) {
			const struct sda_map_entry *me = &r->map->e[mid];
			int k;

			for (k = 0; k < SDA_MAP_CANDIDATES && me->cand[k] >= 0; k++) {
				const struct sda_sock *s = &r->e[me->cand[k]];

				if ((type == 0 || s->type == type) && family_fits(want->family, s))
					return me->cand[k];
			}
			/* more sockets share the name than the cache holds: look on */
			for (size_t i = k == SDA_MAP_CANDIDATES ? (size_t)me->cand[k - 1] + 1 : r->n;
			     i < r->n; i++) {
				const struct sda_sock *s = &r->e[i];

				if (s->usable && s->name && strcmp(s->name, me->name) == 0 &&
				    (type == 0 || s->type == type) && family_fits(want->family, s))
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
 * with app_family, only one an app socket of that family can hold. */
static long find_port(const struct sda_registry *r, int family, uint16_t port, int type,
		      int app_family)
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
		if ((type == 0 || s->type == type) && (!app_family || family_fits(app_family, s)))
			return (long)r->by_key[lo];
	}
	return -ENOENT;
}

long sda_registry_same_port(const struct sda_registry *r, const struct sda_addr *want, int type)
{
	long i;

	if (!r || !is_inet(want->family) || want->port == 0)
		return -ENOENT;
	if ((i = find_port(r, want->family, want->port, type, 0)) >= 0)
		return i;
	return find_port(r, want->family == AF_INET ? AF_INET6 : AF_INET, want->port, type, 0);
}

long sda_registry_match(const struct sda_registry *r, const struct sda_addr *want,
			int type, enum sda_how *how)
{
	struct sda_addr key;
	long i;

	if (how)
		*how = SDA_MATCH_NONE;
	if (!r || !r->nkeys)
		return -ENOENT;
	if (want->family != AF_UNIX && want->port == 0)
		return -ENOENT;                    /* port 0: the app wants any port */
	if (want->family == AF_UNIX && want->plen == 0)
		return -ENOENT;                    /* unnamed: autobind */

	if ((i = find_mapped(r, want, type)) >= 0) {
		if (how)
			*how = SDA_MATCH_MAP;
		return i;
	}

	if ((i = find(r, want, type)) >= 0) {
		if (how)
			*how = SDA_MATCH_EXACT;
		return i;
	}
	if (want->family == AF_UNIX)
		return -ENOENT;

	/* an inherited wildcard of the same family serves every address */
	key = *want;
	memset(key.ip, 0, sizeof(key.ip));
	key.scope_id = 0;
	if (!sda_addr_is_wildcard(want) && (i = find(r, &key, type)) >= 0) {
		if (how)
			*how = SDA_MATCH_WILDCARD;
		return i;
	}

	/* an IPv4 bind onto a dual-stack [::] socket */
	if (want->family == AF_INET) {
		key.family = AF_INET6;
		if ((i = find_dual(r, &key, type, 1)) >= 0) {
			if (how)
				*how = SDA_MATCH_DUALSTACK;
			return i;
		}
	}

	if (r->policy == SDA_POLICY_PORT && is_inet(want->family) &&
	    ((i = find_port(r, want->family, want->port, type, want->family)) >= 0 ||
	     (want->family == AF_INET &&
	      (i = find_port(r, AF_INET6, want->port, type, AF_INET)) >= 0))) {
		if (how)
			*how = SDA_MATCH_PORT;
		return i;
	}
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
