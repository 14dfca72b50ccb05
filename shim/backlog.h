/* SPDX-License-Identifier: MIT */
/* backlog: listen() on an adopted socket that already listens keeps the
 * backlog the activator set (Backlog=). */
#ifndef SDA_BACKLOG_H
#define SDA_BACKLOG_H

#include "fdtab.h"
#include "log.h"

/* 1 if fd is an adopted socket that already listens: skip listen(). */
static inline int sda_keeps_backlog(int fd)
{
	if (__builtin_expect(!(sda_fd_flags(fd) & SDA_FD_LISTENS), 1))
		return 0;
	sda_debug("listen(%d): the inherited socket already listens; keeping its backlog", fd);
	return 1;
}

#endif
