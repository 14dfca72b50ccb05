/* SPDX-License-Identifier: MIT */
/* fdtab: what the shim knows about each fd number, one byte per fd, read
 * with no lock; and, beside it, which table options (core/sockopt.h) the
 * program set on each socket before bind(). */
#ifndef SDA_FDTAB_H
#define SDA_FDTAB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SDA_FD_OWN = 1,      /* the registry's (or the log's) own fd: keep it open */
	SDA_FD_ADOPTED = 2,  /* an app fd that holds an inherited socket */
	SDA_FD_XLATE = 4,    /* addresses returned on it go v4-mapped -> AF_INET */
	SDA_FD_TRACKED = 8,  /* made by socket() since activation: every
			      * setsockopt() on it went through the shim */
	SDA_FD_LISTENS = 16, /* adopted, and the inherited socket listens: keep
			      * its backlog */
	SDA_FD_MAP6 = 32,    /* an IPv6 program's v4-mapped bind got an IPv4 socket:
			      * addresses returned on it go AF_INET -> v4-mapped
			      * AF_INET6, those it passes the other way, and its
			      * IPv6-level options are decided by core/map6.h */
	SDA_FD_PKTINFO6 = 64, /* with MAP6: the program asked IPV6_RECVPKTINFO; its
			       * IP_PKTINFO messages are shown as IPV6_PKTINFO */
	SDA_FD_MOVED = 128,  /* with SDA_FD_OWN: moved out of the program's way
			      * once already (protect.c) */
};

/* Allocated once in the constructor when activated (NULL when inert), never
 * freed or moved: the close() hook reads it with no lock. */
struct sda_fdtab {
	size_t cap;
	_Atomic uint32_t *opts;     /* cap entries: bit i = sda_opts[i] was set */
	_Atomic uint32_t *kind;     /* cap entries: socket()'s arguments (SDA_FD_TRACKED) */
	_Atomic unsigned char f[];
};
extern struct sda_fdtab *_Atomic sda_fdtab;

static inline struct sda_fdtab *sda_fdtab_get(void)
{
	return atomic_load_explicit(&sda_fdtab, memory_order_acquire);
}

static inline unsigned sda_fd_flags(int fd)
{
	struct sda_fdtab *t = sda_fdtab_get();

	if (__builtin_expect(!t, 1) || (size_t)(unsigned)fd >= t->cap)
		return 0;
	return atomic_load_explicit(&t->f[fd], memory_order_relaxed);
}

/* A table for fds [0, cap), or NULL; sda_fdtab_start() makes it the one
 * (the shim is activated from then on). */
struct sda_fdtab *sda_fdtab_make(size_t cap);
void sda_fdtab_start(struct sda_fdtab *t);
void sda_fd_set(int fd, unsigned flags);
/* The highest fd number ever flagged (bounds a scan of the table). */
size_t sda_fd_hi(void);
/* Forget what fds [first, last] were, except SDA_FD_OWN ones (they were
 * not closed). */
void sda_fd_forget_span(size_t first, size_t last);

/* setsockopt() of table option `bit` on fd. */
void sda_fd_opt_set(int fd, unsigned bit);
uint32_t sda_fd_opts(int fd);

/* socket(domain, type, protocol) made fd: it is TRACKED from now on, with
 * no option set, and its kind is kept, packed as domain | type << 8 |
 * protocol << 16 (sda_fd_kind(): 0 when not known). */
void sda_fd_socket(int fd, int domain, int type, int protocol);
uint32_t sda_fd_kind(int fd);
#define SDA_KIND_DOMAIN(k) ((int)((k) & 0xff))
#define SDA_KIND_TYPE(k) ((int)(((k) >> 8) & 0xff))
#define SDA_KIND_PROTOCOL(k) ((int)((k) >> 16))

#endif
