/* SPDX-License-Identifier: MIT */
/* registry: the inherited sockets, and which one serves a bind. */
#ifndef SDA_REGISTRY_H
#define SDA_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "alloc.h"
#include "config.h"
#include "probe.h"

struct sda_registry {
	size_t n;                  /* entries, in LISTEN_FDS order */
	struct sda_sock *e;
	size_t nkeys;              /* usable entries, sorted by (addr, type) */
	uint32_t *by_key;
	uint32_t *by_ino;          /* usable entries, sorted by (dev, ino) */
	uint64_t *ports;           /* bitmap of the ports a bind can match: usable
				    * inet entries and mapped addresses */
	struct sda_map *map;       /* operator's mapping (not owned), may be NULL */
	enum sda_match_policy policy;
	int not_heap;              /* arrays from a caller's zalloc: not freed */
};

/* How a bind matched (design.md §3 precedence). */
enum sda_how {
	SDA_MATCH_NONE = 0,
	SDA_MATCH_MAP,         /* explicit operator mapping */
	SDA_MATCH_EXACT,       /* same family, type, address, port */
	SDA_MATCH_WILDCARD,    /* inherited on the wildcard of the same family */
	SDA_MATCH_DUALSTACK,   /* AF_INET bind onto a dual-stack [::] socket, or a
				* dual-stack [::] bind onto 0.0.0.0 */
	SDA_MATCH_PORT,        /* SDADOPT_MATCH=port: same type and port, any address */
};
const char *sda_how_name(enum sda_how h);

/* Build from already-probed entries (takes ownership of e, a calloc'ed
 * array of n entries). */
int sda_registry_init(struct sda_registry *r, struct sda_sock *e, size_t n);

/* The same in two steps, for callers that must not allocate later:
 * sda_registry_alloc() allocates room for n zeroed entries (e[i] to be
 * filled, e.g. by sda_probe()), sda_registry_index() then sorts the usable
 * ones without allocating; it may be called again after entries change. */
int sda_registry_alloc(struct sda_registry *r, size_t n);
/* The same with zalloc (NULL: calloc). */
int sda_registry_alloc_with(struct sda_registry *r, size_t n, sda_zalloc_fn zalloc);
void sda_registry_index(struct sda_registry *r);
/* (sda_registry_index() also resolves r->map's names to entries.) */
void sda_registry_free(struct sda_registry *r);

/* May an inet bind of `port` (host order) match anything, by any rule or
 * policy?  O(1): one bit; 0 means a certain miss. */
static inline int sda_registry_port_used(const struct sda_registry *r, uint16_t port)
{
	return r->ports && (r->ports[port >> 6] >> (port & 63)) & 1;
}

/* Which usable entry serves a bind of `want` on a socket of `type`
 * (precedence: r->map, exact, wildcard, dual-stack, then with
 * SDA_POLICY_PORT any address of the same port).
 * (0: any type, for a cheap first pass before asking the app's socket).
 * Port 0 and unnamed unix addresses never match.
 * Returns the entry index (>= 0) and sets *how, or -ENOENT. O(log N).
 *
 * Families: a bind that asks for IPv4 traffic (AF_INET, or AF_INET6 of a
 * v4-mapped address, ::ffff:a.b.c.d) may get an AF_INET socket or an
 * AF_INET6 one that is not IPV6_V6ONLY; any other AF_INET6 bind an AF_INET6
 * socket, and [::] from a socket that is not IPV6_V6ONLY (it asks for IPv4
 * too) also an AF_INET one.  A v4-mapped bind is matched in its own form
 * first, then as its IPv4 address: the map, exact ([::ffff:a.b.c.d], then
 * a.b.c.d), wildcard ([::] not V6ONLY, [::ffff:0.0.0.0], then 0.0.0.0) and
 * port rules.  A map entry names a bind in either form (a.b.c.d:P and
 * [::ffff:a.b.c.d]:P), its own form first. */
long sda_registry_match(const struct sda_registry *r, const struct sda_addr *want,
			int type, enum sda_how *how);

/* The same, told about the app's socket (0: nothing known, which is the
 * same as sda_registry_match()). */
enum {
	SDA_BIND_V6ONLY = 1,   /* an AF_INET6 socket with IPV6_V6ONLY: a v4-mapped bind
				* matches nothing (the kernel refuses it, EINVAL), and
				* [::] asks for IPv6 only */
};
long sda_registry_match_bind(const struct sda_registry *r, const struct sda_addr *want,
			     int type, unsigned flags, enum sda_how *how);

/* Index of a usable inet entry of the same type and port as `want`, on any
 * address or family (what strict mode calls bypassing activation), or
 * -ENOENT.  O(log N). */
long sda_registry_same_port(const struct sda_registry *r, const struct sda_addr *want, int type);

/* Index of the usable AF_UNIX path entry whose socket file is (dev, ino),
 * (linear: for cold paths such as unlink())
 * or -ENOENT. */
long sda_registry_find_path_inode(const struct sda_registry *r, dev_t dev, ino_t ino);

/* Index of the usable entry whose socket is (dev, ino), or -ENOENT. O(log N). */
long sda_registry_find_inode(const struct sda_registry *r, dev_t dev, ino_t ino);

#endif
