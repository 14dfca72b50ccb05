/* SPDX-License-Identifier: MIT */
/* fork: what a fork() must not break.  The handlers (the lock is taken
 * across fork, the adoption counts become shared with the child, the child
 * learns its pid) are registered on the first use of the lock or the first
 * fork() of an activated process (the fork() hook), not at start:
 * pthread_atfork() writes a page of libc's and runs code on another, and
 * most processes never fork.  A fork libc makes on its own (daemon())
 * runs no hook: then nothing is cached (sda_self() asks the kernel) and
 * the counts stay this process's. */
#ifndef SDA_FORK_H
#define SDA_FORK_H

#include <sys/types.h>

/* Register the fork handlers once (before the lock is first taken). */
void sda_fork_care(void);
/* fork() is about to run: register them if activated (they run in it). */
void sda_fork_coming(void);
/* This process's pid: cached once the handlers keep it right, else asked
 * of the kernel. */
pid_t sda_self(void);

#endif
