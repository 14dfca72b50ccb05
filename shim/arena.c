/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdint.h>
#include <sys/mman.h>

#define CHUNK (1u << 20)                /* virtual; pages cost when touched */

static unsigned char *cur;
static size_t left;

void *sda_arena_zalloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > left) {
		size_t len = n > CHUNK ? n : CHUNK;
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

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
