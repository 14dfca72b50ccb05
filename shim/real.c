/* SPDX-License-Identifier: MIT */
#include "real.h"

#include <dlfcn.h>

/* Called through the GOT, bound as the shim is loaded: every process calls
 * it once (the constructor), and a lazy binding's trampoline costs more
 * than the call. */
extern void *dlsym(void *restrict handle, const char *restrict name) __attribute__((noplt));
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sda_real_table sda_real;

void *sda_real_get(size_t offset, const char *name, void *self, int optional)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == self)
		p = NULL;
	if (!p && !optional) {
		static const char msg[] = "sdadopt: fatal: cannot resolve the real ";
		ssize_t w = write(2, msg, sizeof(msg) - 1);

		w = write(2, name, strlen(name));
		w = write(2, "()\n", 3);
		(void)w;
		abort();
	}
	__atomic_store_n((void **)((char *)&sda_real + offset), p, __ATOMIC_RELAXED);
	return p;
}

void sda_real_resolve_close(void)
{
	/* the name on the stack: a literal would be the one read of the
	 * shim's .rodata in an inert process, a page fault of its own */
	volatile char name[6] = { 'c', 'l', 'o', 's', 'e', '\0' };
	void *p = dlsym(RTLD_NEXT, (const char *)name);

	if (p != (void *)&close)
		__atomic_store_n((void **)&sda_real.close, p, __ATOMIC_RELAXED);
}
