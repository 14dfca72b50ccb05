/* SPDX-License-Identifier: MIT */
#include "real.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct sda_real_table sda_real;

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

/* Our own exported definitions, to detect dlsym handing us back ourselves. */
#define SDA_REAL_DECL(ret, name, args) extern ret name args;
SDA_REAL_FUNCS(SDA_REAL_DECL)
#undef SDA_REAL_DECL

static void resolve(void)
{
	struct sda_real_table t;
	void *p;

#define SDA_REAL_RESOLVE(ret, fn, args)                                          \
	p = dlsym(RTLD_NEXT, #fn);                                              \
	if (p == (void *)&fn)                                                   \
		p = NULL;                                                       \
	memcpy(&t.fn, &p, sizeof(p));
	SDA_REAL_FUNCS(SDA_REAL_RESOLVE)
#undef SDA_REAL_RESOLVE
	sda_real = t;
	/* A missing symbol is only fatal for the functions every libc has. */
	if (!t.bind || !t.listen || !t.close || !t.socket || !t.dup2) {
		static const char msg[] = "sdadopt: fatal: cannot resolve libc's socket functions\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		(void)w;
		abort();
	}
}

void sda_real_resolve_close(void)
{
	void *p = dlsym(RTLD_NEXT, "close");

	if (p != (void *)&close)
		memcpy(&sda_real.close, &p, sizeof(p));
}

void sda_real_resolve(void)
{
	pthread_once(&resolve_once, resolve);
}
