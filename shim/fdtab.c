/* SPDX-License-Identifier: MIT */
#include "fdtab.h"

#include <errno.h>
#include <sys/mman.h>

#include "sys.h"
#include "startcode.h"

struct sda_fdtab_low sda_fd_low;
struct sda_fdtab *_Atomic sda_fd_high;
_Atomic size_t sda_fd_cap;

static _Atomic size_t fd_hi;            /* highest fd ever flagged */

SDA_STARTUP void sda_fdtab_start(size_t cap)
{
	atomic_store_explicit(&sda_fd_cap, cap, memory_order_release);
}

/* The high tier, made by the first writer that needs it: one mapping for
 * the flags and the option masks (aligned), whose untouched pages cost no
 * memory.  Two writers racing both map, one wins, the other unmaps.  NULL
 * when out of memory: fds from SDA_FD_LOW up are then not flagged, as fds
 * past the cap never are. */
SDA_STARTUP static struct sda_fdtab *high(void)
{
	struct sda_fdtab *t = atomic_load_explicit(&sda_fd_high, memory_order_acquire), *none = NULL;
	size_t cap = atomic_load_explicit(&sda_fd_cap, memory_order_relaxed);
	size_t flags_len = (sizeof(*t) + cap + 63) & ~(size_t)63, opts_len = cap * sizeof(uint32_t);
	size_t len = (flags_len + 2 * opts_len + 4095) & ~(size_t)4095;
	void *m;

	if (t)
		return t;
	m = sda_sys_mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	if (m == MAP_FAILED)
		return NULL;
	t = m;
	t->opts = (_Atomic uint32_t *)((unsigned char *)m + flags_len);
	t->kind = (_Atomic uint32_t *)((unsigned char *)m + flags_len + opts_len);
	if (atomic_compare_exchange_strong_explicit(&sda_fd_high, &none, t, memory_order_acq_rel,
						    memory_order_acquire))
		return t;
	(void)sda_sys_munmap(m, len);
	return none;
}

/* The three entries of fd, or 0 when fd cannot be flagged (inert, past the
 * cap, or no memory for the high tier); make the high tier if `make`. */
struct slot {
	_Atomic unsigned char *f;
	_Atomic uint32_t *opts, *kind;
};

SDA_STARTUP static int slot(int fd, int make, struct slot *s)
{
	struct sda_fdtab *t;

	if (fd < 0 || (size_t)fd >= atomic_load_explicit(&sda_fd_cap, memory_order_acquire))
		return 0;
	if (fd < SDA_FD_LOW) {
		*s = (struct slot){ &sda_fd_low.f[fd], &sda_fd_low.opts[fd], &sda_fd_low.kind[fd] };
		return 1;
	}
	t = make ? high() : atomic_load_explicit(&sda_fd_high, memory_order_acquire);
	if (!t)
		return 0;
	*s = (struct slot){ &t->f[fd], &t->opts[fd], &t->kind[fd] };
	return 1;
}

/* Flag fd in its slot s; a TRACKED one starts with no option set and the
 * given kind (0: not known). */
SDA_STARTUP static void put(int fd, const struct slot *s, unsigned flags, uint32_t kind)
{
	if (flags) {
		size_t hi = atomic_load_explicit(&fd_hi, memory_order_relaxed);

		while ((size_t)fd > hi &&
		       !atomic_compare_exchange_weak_explicit(&fd_hi, &hi, (size_t)fd,
							      memory_order_relaxed, memory_order_relaxed))
			;
	}
	if (flags & SDA_FD_TRACKED) {
		atomic_store_explicit(s->opts, 0, memory_order_relaxed);
		atomic_store_explicit(s->kind, kind, memory_order_relaxed);
	}
	atomic_store_explicit(s->f, (unsigned char)flags, memory_order_relaxed);
}

SDA_STARTUP void sda_fd_set(int fd, unsigned flags)
{
	struct slot s;

	/* clearing an fd that was never flagged makes no table */
	if (slot(fd, flags != 0, &s))
		put(fd, &s, flags, 0);
}

size_t sda_fd_hi(void)
{
	return atomic_load_explicit(&fd_hi, memory_order_relaxed);
}

void sda_fd_forget_span(size_t first, size_t last)
{
	size_t hi = sda_fd_hi();
	struct slot s;

	for (size_t fd = first; fd <= last && fd <= hi; fd++) {
		unsigned f;

		if (!slot((int)fd, 0, &s))
			continue;
		f = atomic_load_explicit(s.f, memory_order_relaxed);
		if (f && !(f & SDA_FD_OWN))
			atomic_store_explicit(s.f, 0, memory_order_relaxed);
	}
}

void sda_fd_opt_set(int fd, unsigned bit)
{
	struct slot s;

	if (bit < 32 && slot(fd, 0, &s))
		atomic_fetch_or_explicit(s.opts, UINT32_C(1) << bit, memory_order_relaxed);
}

uint32_t sda_fd_opts(int fd)
{
	struct slot s;

	return slot(fd, 0, &s) ? atomic_load_explicit(s.opts, memory_order_relaxed) : 0;
}

void sda_fd_socket(int fd, int domain, int type, int protocol)
{
	int known = domain > 0 && domain <= 0xff && (type & 0xf) > 0 && protocol >= 0 && protocol <= 0xffff;
	struct slot s;

	if (slot(fd, 1, &s))
		put(fd, &s, SDA_FD_TRACKED,
		    known ? (uint32_t)domain | (uint32_t)(type & 0xf) << 8 | (uint32_t)protocol << 16 : 0);
}

uint32_t sda_fd_kind(int fd)
{
	struct slot s;

	if (!slot(fd, 0, &s) || !(atomic_load_explicit(s.f, memory_order_relaxed) & SDA_FD_TRACKED))
		return 0;
	return atomic_load_explicit(s.kind, memory_order_relaxed);
}
