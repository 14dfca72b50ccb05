/* SPDX-License-Identifier: MIT */
/* fork: what a fork() must not break.  The handlers (the lock is taken
 * across fork, the child learns its pid) are registered on the first use of
 * the lock, not at start: pthread_atfork() allocates, and a process that
 * never adopts, closes or moves an inherited fd never needs them. */
#ifndef SDA_FORK_H
#define SDA_FORK_H

#include <sys/types.h>

/* Register the fork handlers once (before the lock is first taken). */
void sda_fork_care(void);
/* This process's pid: cached once the handlers keep it right, else asked
 * of the kernel. */
pid_t sda_self(void);
/* Has this process forked since the handlers were registered (or may it
 * have: 1 when they are not)? */
int sda_may_have_forked(void);

#endif
