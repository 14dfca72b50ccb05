/* SPDX-License-Identifier: MIT */
#include "arena.h"

#include <stdint.h>
#include <sys/mman.h>

#include "sys.h"
#include "startcode.h"

#define CHUNK (1u << 20)                /* virtual; pages cost when touched */

/* The first bytes are the shim's own, on the data page every process
 * writes anyway: the names, the own list and where each socket is, for an
 * activation of a few dozen sockets, cost no mapping and no page fault
 * (a mapping and its first fault cost about as much as the rest of the
 * activation).  What does not fit, and the registry at the probe (its
 * port bitmap alone is 8 KB), come from mappings. */
#define FIRST 1280
static _Alignas(16) unsigned char arena_first[FIRST];
static unsigned char *cur;
static size_t left;

SDA_STARTUP void *sda_arena_zalloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!cur) {
		cur = arena_first;
		left = sizeof(arena_first);
	}
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
