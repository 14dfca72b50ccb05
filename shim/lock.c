/* SPDX-License-Identifier: MIT */
#include "lock.h"

#include <pthread.h>

#include "fork.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void sda_lock(sigset_t *old)
{
	sigset_t all;

	sda_fork_care();
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
	pthread_mutex_lock(&lock);
}

void sda_unlock(const sigset_t *old)
{
	pthread_mutex_unlock(&lock);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

void sda_lock_atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

void sda_lock_atfork_release(void)
{
	pthread_mutex_unlock(&lock);
}
