/* SPDX-License-Identifier: MIT */
/* An LD_PRELOAD library with nothing in it: the floor every preloaded
 * library pays (the loader opens, maps and relocates one more object). */
int sda_bench_empty;
