/* SPDX-License-Identifier: MIT */
#include "protect.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arena.h"
#include "env.h"
#include "fdtab.h"
#include "inherited.h"
#include "lock.h"
#include "log.h"
#include "real.h"
#include "startcode.h"

static int *own;                        /* sorted fds we keep open */
static size_t n_own, cap_own;

SDA_STARTUP int sda_protect_init(size_t cap)
{
	if (!(own = sda_arena_zalloc(cap * sizeof(*own))))
		return -ENOMEM;
	cap_own = cap;
	return 0;
}

SDA_STARTUP void sda_own_add(int fd)
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

/* Where moved fds go: far from the low numbers a program sweeps (close
 * every fd from 3 up, dup2 onto them), from just below the soft
 * RLIMIT_NOFILE downward.  The top is at most HIGH_TOP, so that the kernel's
 * fd table (which fork copies) stays small under a huge limit. */
#define HIGH_TOP 4096
#define HIGH_TRIES 64
static int high_next;                   /* next number to try; 0: not set */

static int dup_high(int fd)
{
	struct rlimit rl;
	int r;

	if (!high_next) {
		high_next = HIGH_TOP - 1;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < (rlim_t)HIGH_TOP)
			high_next = (int)rl.rlim_cur - 1;
	}
	for (int i = 0; i < HIGH_TRIES && high_next >= SDA_LISTEN_FDS_START; i++) {
		r = fcntl(fd, F_DUPFD_CLOEXEC, high_next);
		if (r >= 0) {
			if (r <= high_next)
				high_next = r - 1;
			return r;
		}
		if (errno != EMFILE && errno != EINVAL)
			return -1;
		high_next--;                     /* taken up to the limit: lower */
	}
	errno = EMFILE;
	return -1;
}

/* Move our own fd `fd` to a high free number (the old number stays open
 * until the caller closes or replaces it); call with the lock held.
 * Returns the new number, or -1 (then fd stays where it is). */
static int move_own(int fd, const char *why)
{
	int nfd = dup_high(fd);

	if (nfd < 0) {
		sda_warn("cannot move inherited fd %d out of the program's way (%s): %s; keeping it",
			 fd, why, strerrorname_np(errno));
		return -1;
	}
	for (size_t i = 0; i < sda_inh.n; i++)
		if (sda_inh.fds[i] == fd) {
			sda_inh.fds[i] = nfd;
			if (sda_probe_done() && i < sda_inh.reg.n)
				sda_inh.reg.e[i].fd = nfd;
		}
	if (sda_log_fd() == fd)
		sda_log_set_fd(nfd);
	sda_own_del(fd);
	sda_own_add(nfd);
	sda_fd_set(nfd, SDA_FD_OWN | SDA_FD_MOVED);
	sda_debug("moved inherited fd %d to %d: the program %s", fd, nfd, why);
	return nfd;
}

int sda_own_close(int fd)
{
	sigset_t mask;
	int saved = errno;

	sda_lock(&mask);
	if ((sda_fd_flags(fd) & SDA_FD_OWN) && move_own(fd, "closes it") >= 0)
		(void)sda_real_close(fd);
	sda_unlock(&mask);
	errno = saved;
	return 0;
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
	/* ours in the range move up once, and their numbers close with the
	 * rest; where they land in the range too, it closes around them (a
	 * moved fd goes to the end of own[]: the next one slides into i) */
	for (size_t i = 0; i < n_own;) {
		int o = own[i];

		if ((unsigned)o >= first && (unsigned)o <= last &&
		    !(sda_fd_flags(o) & SDA_FD_MOVED) && move_own(o, "closes a range of fds over it") >= 0)
			continue;
		i++;
	}
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

void sda_before_dup_onto(int oldfd, int newfd)
{
	sigset_t mask;

	if (oldfd == newfd || !(sda_fd_flags(newfd) & SDA_FD_OWN))
		return;
	int saved = errno;

	sda_lock(&mask);
	if (sda_fd_flags(newfd) & SDA_FD_OWN)
		(void)move_own(newfd, "dup2()s onto it");
	sda_unlock(&mask);
	errno = saved;
}

void sda_after_dup_onto(int oldfd, int newfd)
{
	unsigned f = sda_fd_flags(oldfd) &
		     (SDA_FD_ADOPTED | SDA_FD_XLATE | SDA_FD_LISTENS | SDA_FD_MAP6 | SDA_FD_PKTINFO6);

	if (f || sda_fd_flags(newfd))
		sda_fd_set(newfd, f);
}

void sda_fd_fresh(int fd, unsigned flags)
{
	if (flags || sda_fd_flags(fd))
		sda_fd_set(fd, flags);
}
