/* SPDX-License-Identifier: MIT */
#include "protect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "env.h"
#include "fdtab.h"
#include "inherited.h"
#include "lock.h"
#include "log.h"
#include "real.h"

static int *own;                        /* sorted fds we keep open */
static size_t n_own, cap_own;

int sda_protect_init(size_t cap)
{
	if (!(own = sda_arena_zalloc(cap * sizeof(*own))))
		return -ENOMEM;
	cap_own = cap;
	return 0;
}

void sda_own_add(int fd)
{
	size_t i = n_own;

	if (n_own == cap_own)
		return;                  /* cannot happen: sized at init */
	while (i > 0 && own[i - 1] > fd) {
		own[i] = own[i - 1];
		i--;
	}
	own[i] = fd;
	n_own++;
	sda_fd_set(fd, SDA_FD_OWN);
}

void sda_own_del(int fd)
{
	for (size_t i = 0; i < n_own; i++)
		if (own[i] == fd) {
			memmove(&own[i], &own[i + 1], (n_own - i - 1) * sizeof(*own));
			n_own--;
			sda_fd_set(fd, 0);
			return;
		}
}

static int close_range_real(unsigned lo, unsigned hi, int flags)
{
	int (*cr)(unsigned, unsigned, int) = SDA_REAL_OR_NULL(close_range);
	void (*cf)(int);
	int r;

	if (cr) {
		r = cr(lo, hi, flags);
		if (r == 0 || errno != ENOSYS)
			return r;
	}
	if (flags) {
		errno = EINVAL;
		return -1;
	}
	if (hi == ~0U && (cf = SDA_REAL_OR_NULL(closefrom))) {
		cf((int)lo);
		return 0;
	}
	for (unsigned fd = lo; fd <= hi && fd < (unsigned)sysconf(_SC_OPEN_MAX); fd++)
		(void)SDA_REAL(close)((int)fd);
	return 0;
}

int sda_close_span(unsigned first, unsigned last, int flags)
{
	sigset_t mask;
	unsigned lo = first;
	int r = 0, err = 0;

	if (!sda_activated() || (flags & CLOSE_RANGE_CLOEXEC) || first > last)
		return close_range_real(first, last, flags);
	sda_lock(&mask);
	for (size_t i = 0; i < n_own; i++) {
		unsigned o = (unsigned)own[i];

		if (o < lo)
			continue;
		if (o > last)
			break;
		if (o > lo && close_range_real(lo, o - 1, flags) < 0 && !err)
			err = errno;
		lo = o + 1;
		if (lo == 0)
			break;                   /* o was UINT_MAX */
	}
	if (lo != 0 && lo <= last && close_range_real(lo, last, flags) < 0 && !err)
		err = errno;
	sda_fd_forget_span(first, last);        /* what the closed fds were */
	sda_unlock(&mask);
	if (err) {
		errno = err;
		r = -1;
	}
	return r;
}

/* Move our own fd `fd` to a free number; call with the lock held. */
static void move_own(int fd)
{
	struct sda_registry *reg = &sda_inh.reg;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, SDA_LISTEN_FDS_START);

	if (nfd < 0) {
		sda_warn("cannot move inherited fd %d out of the way of dup2: %s", fd,
			 strerrorname_np(errno));
		return;
	}
	for (size_t i = 0; i < reg->n; i++)
		if (reg->e[i].fd == fd)
			reg->e[i].fd = nfd;
	if (sda_log_fd() == fd)
		sda_log_set_fd(nfd);
	sda_own_del(fd);
	sda_own_add(nfd);
	sda_debug("moved inherited fd %d to %d: the program dup2()s onto it", fd, nfd);
}

void sda_before_dup_onto(int oldfd, int newfd)
{
	sigset_t mask;

	if (oldfd == newfd || !(sda_fd_flags(newfd) & SDA_FD_OWN))
		return;
	int saved = errno;

	sda_lock(&mask);
	if (sda_fd_flags(newfd) & SDA_FD_OWN)
		move_own(newfd);
	sda_unlock(&mask);
	errno = saved;
}

void sda_after_dup_onto(int oldfd, int newfd)
{
	unsigned f = sda_fd_flags(oldfd) & (SDA_FD_ADOPTED | SDA_FD_XLATE | SDA_FD_LISTENS);

	if (f || sda_fd_flags(newfd))
		sda_fd_set(newfd, f);
}

void sda_fd_fresh(int fd, unsigned flags)
{
	if (flags || sda_fd_flags(fd))
		sda_fd_set(fd, flags);
}
