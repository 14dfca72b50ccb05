/* SPDX-License-Identifier: MIT */
#include "fork.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "inherited.h"
#include "lock.h"
#include "sys.h"
#include "startcode.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Atomic int registered;
static _Atomic pid_t self;

static void prepare(void)
{
	sda_lock_atfork_prepare();
	sda_inherited_before_fork();
}

static void parent(void)
{
	sda_lock_atfork_release();
}

static void child(void)
{
	sda_lock_atfork_release();
	atomic_store(&self, sda_sys_getpid());
}

static void do_register(void)
{
	atomic_store(&self, sda_sys_getpid());
	if (pthread_atfork(prepare, parent, child) == 0)
		atomic_store_explicit(&registered, 1, memory_order_release);
}

void sda_fork_care(void)
{
	if (!atomic_load_explicit(&registered, memory_order_acquire))
		pthread_once(&once, do_register);
}

void sda_fork_coming(void)
{
	if (sda_activated())
		sda_fork_care();
}

SDA_STARTUP pid_t sda_self(void)
{
	return atomic_load_explicit(&registered, memory_order_acquire) ? atomic_load(&self) :
		sda_sys_getpid();
}
