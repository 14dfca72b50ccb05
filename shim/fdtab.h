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

/* Two tiers, neither ever freed or moved (the close() hook reads them with
 * no lock).  fds below SDA_FD_LOW live in the shim's own data, on the page
 * every process that loads it writes anyway: an activation whose fds are
 * all low maps and faults nothing for its table.  The rest, [SDA_FD_LOW,
 * cap), are a mapping made when the first of them is flagged. */
#define SDA_FD_LOW 128
struct sda_fdtab_low {
	_Atomic uint32_t opts[SDA_FD_LOW];  /* bit i = sda_opts[i] was set */
	_Atomic uint32_t kind[SDA_FD_LOW];  /* socket()'s arguments (SDA_FD_TRACKED) */
	_Atomic unsigned char f[SDA_FD_LOW];
};
struct sda_fdtab {
	_Atomic uint32_t *opts;     /* indexed by fd: entries below SDA_FD_LOW unused */
	_Atomic uint32_t *kind;
	_Atomic unsigned char f[];
};
extern struct sda_fdtab_low sda_fd_low;
extern struct sda_fdtab *_Atomic sda_fd_high;
extern _Atomic size_t sda_fd_cap;       /* fds [0, cap) can be flagged; 0: inert */

static inline unsigned sda_fd_flags(int fd)
{
	struct sda_fdtab *t;

	/* inert: the low tier is all zeros, the high one absent */
	if (__builtin_expect((unsigned)fd < SDA_FD_LOW, 1))
		return atomic_load_explicit(&sda_fd_low.f[fd], memory_order_relaxed);
	t = atomic_load_explicit(&sda_fd_high, memory_order_acquire);
	if (!t || (size_t)(unsigned)fd >= atomic_load_explicit(&sda_fd_cap, memory_order_relaxed))
		return 0;
	return atomic_load_explicit(&t->f[fd], memory_order_relaxed);
}

/* Activation: fds [0, cap) can be flagged from now on.  Call once, from
 * the constructor, before any flag is set. */
void sda_fdtab_start(size_t cap);
static inline int sda_fdtab_started(void)
{
	return atomic_load_explicit(&sda_fd_cap, memory_order_acquire) != 0;
}
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
