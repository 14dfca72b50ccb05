/* SPDX-License-Identifier: MIT */
/* probe: what an inherited fd is. */
#ifndef SDA_PROBE_H
#define SDA_PROBE_H

#include <sys/types.h>
#include "addr.h"

struct sda_sock {
	int fd;                 /* the registry's own copy (may move) */
	const char *name;       /* LISTEN_FDNAMES entry (not owned) */
	int usable;             /* 1 if bind() may adopt it */
	const char *why;        /* static text when !usable */
	int err;                /* errno behind why, 0 if none */
	int family, type, protocol;
	int listening;          /* SO_ACCEPTCONN */
	int v6only;             /* IPV6_V6ONLY (AF_INET6 only) */
	dev_t dev;              /* socket identity (fstat) */
	ino_t ino;
	dev_t path_dev;         /* AF_UNIX path sockets: the file on disk, */
	ino_t path_ino;         /* 0/0 when it could not be stat()ed */
	struct sda_addr addr;   /* bound address */
};

/* Probe fd into out (every field but name is overwritten).  Uses only system calls that the shim never hooks
 * (fstat, fcntl, getsockopt, and getsockname through syscall(2)).
 * Returns 0 when out->usable, else -errno (out->why, out->err set). */
int sda_probe(int fd, struct sda_sock *out);

/* getsockname(2) without going through any interposed symbol. */
int sda_sys_getsockname(int fd, struct sockaddr *sa, socklen_t *len);

#endif
