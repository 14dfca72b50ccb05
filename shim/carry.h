/* SPDX-License-Identifier: MIT */
/* carry: the socket options a program set on its own socket before bind()
 * go with it onto the inherited socket (docs/socket-options.md).  The
 * setsockopt() hook notes which table options each socket had set, and each
 * kind of socket's defaults are learnt once, so an adoption reads only what
 * the program may have changed. */
#ifndef SDA_CARRY_H
#define SDA_CARRY_H

#include <stddef.h>

#include "sockopt.h"

/* setsockopt(fd, level, name) succeeded. */
void sda_carry_note(int fd, int level, int name);

struct sda_carry {
	struct sda_opt_result res[SDA_OPTS_MAX];
	size_t n;             /* options the program changed (<= SDA_OPTS_MAX) */
	int v6only_asked;     /* the app socket's IPV6_V6ONLY (AF_INET6 only) */
	int pktinfo6;         /* map6: the app asked IPV6_RECVPKTINFO, and the
			       * inherited socket has IP_PKTINFO */
};

/* Carry app_fd's options over to target_fd.  map6: app_fd is AF_INET6,
 * target_fd AF_INET (a v4-mapped adoption: IPv6-level options go to their
 * IPv4 twins, core/map6.h).  Call with the lock held. */
void sda_carry_opts(int app_fd, int family, int type, int protocol, int target_fd, int map6,
		    struct sda_carry *c);
/* Log what sda_carry_opts() did, one line per changed option. */
void sda_carry_log(int fd, const struct sda_carry *c);

#endif
