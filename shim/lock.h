/* SPDX-License-Identifier: MIT */
/* lock: the one lock of the shim's slow paths.  bind(), close() and dup2()
 * are async-signal-safe, so a signal handler may call a hook while this
 * thread holds the lock: signals wait while it is held. */
#ifndef SDA_LOCK_H
#define SDA_LOCK_H

#include <signal.h>

void sda_lock(sigset_t *old);
void sda_unlock(const sigset_t *old);

/* pthread_atfork(): the child gets the lock in a known state. */
void sda_lock_atfork_prepare(void);
void sda_lock_atfork_release(void);

#endif
