/* SPDX-License-Identifier: MIT */
/* alloc: where core puts what it allocates.  A caller that must not touch
 * the heap (the shim's constructor: the first malloc of a process that
 * never mallocs costs its whole heap set-up) hands core a function that
 * returns zeroed memory it never frees one by one, e.g. a bump arena. */
#ifndef SDA_ALLOC_H
#define SDA_ALLOC_H

#include <stddef.h>

/* n zeroed bytes, aligned for any type, or NULL.  NULL as the function
 * itself means calloc() (and then the matching *_free() frees). */
typedef void *(*sda_zalloc_fn)(size_t n);

#endif
