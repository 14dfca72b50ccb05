/* SPDX-License-Identifier: MIT */
/* startcode: where the code that every activated start runs is placed.
 * The compiler puts constructors in .text.startup; the functions they call
 * (the environment's parsing, the log's set-up, the registry's first
 * bookkeeping, the exit report) go there too, so that a start touches two
 * or three pages of code instead of one per source file (each a TLB miss
 * and a round of cache misses, and on a virtual machine a costly one). */
#ifndef SDA_STARTCODE_H
#define SDA_STARTCODE_H

#define SDA_STARTUP __attribute__((section(".text.startup")))

#endif
