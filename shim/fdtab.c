/* SPDX-License-Identifier: MIT */
#include "fdtab.h"

#include <errno.h>

#include "arena.h"

struct sda_fdtab *_Atomic sda_fdtab;

static _Atomic size_t fd_hi;            /* highest fd ever flagged */

struct sda_fdtab *sda_fdtab_make(size_t cap)
{
	/* the flags, then the option masks (aligned), in the arena's
	 * mapping, whose untouched pages cost no memory */
	size_t flags_len = (sizeof(struct sda_fdtab) + cap + 63) & ~(size_t)63;
	size_t opts_len = cap * sizeof(uint32_t);
	struct sda_fdtab *t;

	if (!(t = sda_arena_zalloc(flags_len + 2 * opts_len)))
		return NULL;
	t->cap = cap;
	t->opts = (_Atomic uint32_t *)((unsigned char *)t + flags_len);
	t->kind = (_Atomic uint32_t *)((unsigned char *)t + flags_len + opts_len);
	return t;
}

void sda_fdtab_start(struct sda_fdtab *t)
{
	atomic_store_explicit(&sda_fdtab, t, memory_order_release);
}

void sda_fd_set(int fd, unsigned flags)
{
	struct sda_fdtab *t = sda_fdtab_get();

	if (!t || fd < 0 || (size_t)fd >= t->cap)
		return;
	if (flags) {
		size_t hi = atomic_load_explicit(&fd_hi, memory_order_relaxed);

		while ((size_t)fd > hi &&
		       !atomic_compare_exchange_weak_explicit(&fd_hi, &hi, (size_t)fd,
							      memory_order_relaxed, memory_order_relaxed))
			;
	}
	if (flags & SDA_FD_TRACKED) {
		atomic_store_explicit(&t->opts[fd], 0, memory_order_relaxed);
		atomic_store_explicit(&t->kind[fd], 0, memory_order_relaxed);
	}
	atomic_store_explicit(&t->f[fd], (unsigned char)flags, memory_order_relaxed);
}

size_t sda_fd_hi(void)
{
	return atomic_load_explicit(&fd_hi, memory_order_relaxed);
}

void sda_fd_forget_span(size_t first, size_t last)
{
	struct sda_fdtab *t = sda_fdtab_get();
	size_t hi = sda_fd_hi();

	if (!t)
		return;
	for (size_t fd = first; fd <= last && fd <= hi && fd < t->cap; fd++) {
		unsigned f = atomic_load_explicit(&t->f[fd], memory_order_relaxed);

		if (f && !(f & SDA_FD_OWN))
			atomic_store_explicit(&t->f[fd], 0, memory_order_relaxed);
	}
}

void sda_fd_opt_set(int fd, unsigned bit)
{
	struct sda_fdtab *t = sda_fdtab_get();

	if (t && fd >= 0 && (size_t)fd < t->cap && bit < 32)
		atomic_fetch_or_explicit(&t->opts[fd], UINT32_C(1) << bit, memory_order_relaxed);
}

uint32_t sda_fd_opts(int fd)
{
	struct sda_fdtab *t = sda_fdtab_get();

	if (!t || fd < 0 || (size_t)fd >= t->cap)
		return 0;
	return atomic_load_explicit(&t->opts[fd], memory_order_relaxed);
}

void sda_fd_socket(int fd, int domain, int type, int protocol)
{
	struct sda_fdtab *t = sda_fdtab_get();

	if (!t || fd < 0 || (size_t)fd >= t->cap)
		return;
	sda_fd_set(fd, SDA_FD_TRACKED);          /* no options set, kind unknown */
	if (domain <= 0 || domain > 0xff || (type & 0xf) <= 0 || protocol < 0 || protocol > 0xffff)
		return;
	atomic_store_explicit(&t->kind[fd], (uint32_t)domain | (uint32_t)(type & 0xf) << 8 |
				      (uint32_t)protocol << 16, memory_order_relaxed);
}

uint32_t sda_fd_kind(int fd)
{
	struct sda_fdtab *t = sda_fdtab_get();

	if (!t || fd < 0 || (size_t)fd >= t->cap || !(sda_fd_flags(fd) & SDA_FD_TRACKED))
		return 0;
	return atomic_load_explicit(&t->kind[fd], memory_order_relaxed);
}
