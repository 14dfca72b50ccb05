/* SPDX-License-Identifier: MIT */
/* pathguard: unlink(), unlinkat() and remove() of an inherited unix
 * socket's path do nothing: the path belongs to the activator. */
#ifndef SDA_PATHGUARD_H
#define SDA_PATHGUARD_H

/* 1 if the path is an inherited socket's (skip the call).  Preserves errno. */
int sda_keeps_path(int dirfd, const char *path, int flags);

#endif
