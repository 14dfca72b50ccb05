/* SPDX-License-Identifier: MIT */
/* xlate: on an fd where an IPv4 program holds an IPv6 socket (dual-stack
 * adoption), the addresses the kernel returns are shown as IPv4. */
#ifndef SDA_XLATE_H
#define SDA_XLATE_H

#include <sys/socket.h>

/* Copy a kernel-returned address into the app's buffer, v4-mapped made
 * AF_INET, truncated to the app's length as the kernel would; *applen gets
 * the full length. */
void sda_xlate_out(struct sockaddr *app, socklen_t *applen,
		   const struct sockaddr_storage *ss, socklen_t sslen);

#endif
