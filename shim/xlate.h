/* SPDX-License-Identifier: MIT */
/* xlate: where the program's socket family is not the adopted socket's,
 * the program is shown what a socket of its own family would show.
 *   SDA_FD_XLATE: an IPv4 program on an IPv6 socket (dual-stack adoption):
 *     the addresses the kernel returns are shown as IPv4.
 *   SDA_FD_MAP6: an IPv6 program's v4-mapped bind on an IPv4 socket (the
 *     JVM): returned addresses are shown as v4-mapped IPv6, the program's
 *     own (sendto, sendmsg, connect) are given to the kernel as IPv4, its
 *     IPv6-level socket options and control messages follow core/map6.h. */
#ifndef SDA_XLATE_H
#define SDA_XLATE_H

#include <sys/socket.h>

/* Copy a kernel-returned address into the app's buffer in the app's family
 * (fd flags f: SDA_FD_XLATE or SDA_FD_MAP6), truncated to the app's length
 * as the kernel would; *applen gets the full length. */
void sda_xlate_out(unsigned f, struct sockaddr *app, socklen_t *applen,
		   const struct sockaddr_storage *ss, socklen_t sslen);

/* SDA_FD_MAP6: the address the program passes, as the IPv4 socket takes it:
 * *out and 1 when translated (into tmp), else 0 (pass the program's). */
int sda_map6_dest(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *tmp);

/* SDA_FD_MAP6, IPPROTO_IPV6 options (docs/socket-options.md).  Return what
 * setsockopt()/getsockopt() return, errno set on failure. */
int sda_map6_setsockopt(int fd, int name, const void *val, socklen_t len);
int sda_map6_getsockopt(int fd, int name, void *val, socklen_t *len);

/* SDA_FD_MAP6: recvmsg() and sendmsg() with the name and control messages
 * translated. */
ssize_t sda_map6_recvmsg(int fd, unsigned f, struct msghdr *msg, int flags);
ssize_t sda_map6_sendmsg(int fd, const struct msghdr *msg, int flags);

#endif
