/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdint.h>
#include <sys/mman.h>

#include "sys.h"

#define CHUNK (1u << 20)                /* virtual; pages cost when touched */

/* The first bytes come from here: the shim's own zeroed data, on a page
 * its variables touch anyway (a small activation needs no mapping). */
static unsigned char first[2048] __attribute__((aligned(16)));
static unsigned char *cur = first;
static size_t left = sizeof(first);

void *sda_arena_zalloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > left) {
		size_t len = n > CHUNK ? n : CHUNK;
		void *m = sda_sys_mmap(len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);

		if (m == MAP_FAILED)
			return NULL;
		cur = m;
		left = len;
	}
	p = cur;
	cur += n;
	left -= n;
	return p;
}
