/* SPDX-License-Identifier: MIT */
/* protect: the fds the shim keeps for itself (the registry's copies of the
 * inherited sockets, the log's fd) survive a program that closes or dup2()s
 * over every fd. */
#ifndef SDA_PROTECT_H
#define SDA_PROTECT_H

#include <stddef.h>

/* Room for cap protected fds (allocated once). 0 or -ENOMEM. */
int sda_protect_init(size_t cap);
void sda_own_add(int fd);
void sda_own_del(int fd);

/* close() of one of our own fds: it moves to a high number and the old
 * number is closed, so the program sees what it asked for (the number is
 * free, a second close() fails with EBADF) and a sweep from 3 up does not
 * meet it again.  Returns 0; preserves errno. */
int sda_own_close(int fd);
/* close_range()/closefrom(): close [first, last]; our own fds in it move
 * up first (and are skipped where they land in the range). */
int sda_close_span(unsigned first, unsigned last, int flags);
/* dup2()/dup3() onto newfd: move our own fd out of the way first. */
void sda_before_dup_onto(int oldfd, int newfd);
void sda_after_dup_onto(int oldfd, int newfd);
/* a new fd from the kernel (socket(), accept()): forget stale flags; an
 * accepted fd inherits the listener's translation. */
void sda_fd_fresh(int fd, unsigned flags);

#endif
