/* SPDX-License-Identifier: MIT */
#include "fork.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int registered;
static _Atomic pid_t self;
static _Atomic int forked;

static void parent(void)
{
	sda_lock_atfork_release();
	atomic_store(&forked, 1);
}

static void child(void)
{
	sda_lock_atfork_release();
	atomic_store(&self, (pid_t)syscall(SYS_getpid));
}

static void do_register(void)
{
	atomic_store(&self, (pid_t)syscall(SYS_getpid));
	if (pthread_atfork(sda_lock_atfork_prepare, parent, child) == 0)
		atomic_store(&registered, 1);
}

void sda_fork_care(void)
{
	if (!atomic_load_explicit(&registered, memory_order_acquire))
		pthread_once(&once, do_register);
}

pid_t sda_self(void)
{
	return atomic_load_explicit(&registered, memory_order_acquire) ? atomic_load(&self) :
		(pid_t)syscall(SYS_getpid);
}

int sda_may_have_forked(void)
{
	return !atomic_load(&registered) || atomic_load(&forked);
}
