/* SPDX-License-Identifier: MIT */
/* adopt: a bind() of an address an inherited socket serves puts that socket
 * on the program's fd instead (dup3), keeping the fd's own flags. */
#ifndef SDA_ADOPT_H
#define SDA_ADOPT_H

#include <sys/socket.h>

/* 1 if fd now holds an inherited socket, 0 to do the real bind, -errno to
 * fail the bind (strict mode).  Preserves errno. */
int sda_adopt(int fd, const struct sockaddr *sa, socklen_t len);

#endif
