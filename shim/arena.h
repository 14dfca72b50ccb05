/* SPDX-License-Identifier: MIT */
/* arena: the memory the shim keeps for the life of the process (the parsed
 * names, the list of its own fds, the registry), bumped out of a few
 * static bytes first, then out of anonymous mappings (a chunk each, so
 * that a run of allocations shares one).  Never the heap: the first
 * malloc() of a program that has not called it yet costs its whole heap
 * set-up, and a page of heap is touched whether used or not; a mapping's
 * pages cost only when written. */
#ifndef SDA_ARENA_H
#define SDA_ARENA_H

#include <stddef.h>

/* n zeroed bytes, 16-byte aligned, never freed; NULL when out of memory.
 * Not thread-safe: the constructor, or under the lock. */
void *sda_arena_zalloc(size_t n);

#endif
