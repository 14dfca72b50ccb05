/* SPDX-License-Identifier: MIT */
#include "fork.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inherited.h"
#include "lock.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int registered;
static _Atomic pid_t self;
static _Atomic int forked;

static void prepare(void)
{
	sda_lock_atfork_prepare();
	sda_inherited_before_fork();
}

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

static void register_as(pid_t pid)
{
	atomic_store(&self, pid);
	if (pthread_atfork(prepare, parent, child) == 0)
		atomic_store_explicit(&registered, 1, memory_order_release);
}

static void do_register(void)
{
	register_as((pid_t)syscall(SYS_getpid));
}

void sda_fork_care(void)
{
	if (!atomic_load_explicit(&registered, memory_order_acquire))
		pthread_once(&once, do_register);
}

void sda_fork_care_at_start(pid_t pid)
{
	if (!atomic_load_explicit(&registered, memory_order_acquire))
		register_as(pid);
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
