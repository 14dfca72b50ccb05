/* SPDX-License-Identifier: MIT */
/* fork: what a fork() must not break.  The handlers (the lock is taken
 * across fork, the adoption counts become shared with the child, the child
 * learns its pid) are registered at activation, never in an inert process. */
#ifndef SDA_FORK_H
#define SDA_FORK_H

#include <sys/types.h>

/* Register the fork handlers once (at activation, and before the lock is
 * first taken). */
void sda_fork_care(void);
/* The same from the constructor (one thread, no pthread_once: its wake-up
 * is a system call), with this process's pid. */
void sda_fork_care_at_start(pid_t pid);
/* This process's pid: cached once the handlers keep it right, else asked
 * of the kernel. */
pid_t sda_self(void);
/* Has this process forked since the handlers were registered (or may it
 * have: 1 when they are not)? */
int sda_may_have_forked(void);

#endif
