/* SPDX-License-Identifier: MIT */
/* A spy preloaded after libsdadopt.so: the shim's calls to malloc and to
 * pthread_mutex_lock resolve here first, so the test can count them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

static _Thread_local int armed;
static unsigned long n_alloc, n_lock;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_lock)(pthread_mutex_t *);

/* dlsym may call calloc before real_calloc is known: serve it from here. */
static char boot[4096];
static size_t boot_used;

static void *boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (boot_used + n > sizeof(boot))
		return NULL;
	p = boot + boot_used;
	boot_used += n;
	return p;
}

void spy_arm(int on) __attribute__((visibility("default")));
void spy_arm(int on)
{
	armed = on;
}

void spy_counts(unsigned long *alloc, unsigned long *lock) __attribute__((visibility("default")));
void spy_counts(unsigned long *alloc, unsigned long *lock)
{
	*alloc = n_alloc;
	*lock = n_lock;
}

void *malloc(size_t n)
{
	if (armed)
		n_alloc++;
	if (!real_malloc)
		real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	return real_malloc ? real_malloc(n) : boot_alloc(n);
}

void *calloc(size_t a, size_t b)
{
	static int resolving;
	void *p;

	if (armed)
		n_alloc++;
	if (!real_calloc) {
		if (resolving)
			return boot_alloc(a * b);  /* zeroed: static storage */
		resolving = 1;
		real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
		resolving = 0;
	}
	p = real_calloc ? real_calloc(a, b) : boot_alloc(a * b);
	return p;
}

void *realloc(void *p, size_t n)
{
	if (armed)
		n_alloc++;
	if (!real_realloc)
		real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	return real_realloc(p, n);
}

void free(void *p)
{
	static void (*real_free)(void *);

	if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
		return;
	if (!real_free)
		real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_free(p);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (armed)
		n_lock++;
	if (!real_lock)
		real_lock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_lock");
	return real_lock(m);
}
