/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdint.h>
#include <sys/mman.h>

#include "sys.h"

#define CHUNK (1u << 20)                /* virtual; pages cost when touched */

/* No static first bytes: the registry's port bitmap alone (8 KB) needs a
 * mapping, and a buffer in the shim's data would move its variables apart
 * (one more page written) */
static unsigned char *cur;
static size_t left;

void *sda_arena_zalloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > left) {
		/* what is asked, and a chunk more for what follows: the
		 * constructor's few allocations share one mapping */
		size_t len = (n + CHUNK + 4095) & ~(size_t)4095;
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
