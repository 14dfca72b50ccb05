/* SPDX-License-Identifier: MIT */
/* addrcheck: the checks test_dualstack.c and test_map6.c share: what the
 * server's "addr" steps report of an address the shim returned, its
 * adoption log line, and a run served through the adopted socket. */
#ifndef SDA_TEST_ADDRCHECK_H
#define SDA_TEST_ADDRCHECK_H

#include "harness.h"

/* The nth "addr" line of the server is call's report of the `family`
 * address of ip and port (AF_INET: ip:port, AF_INET6: [ip]:port) into a
 * buffer of buflen bytes: *addrlen says the family's full length, nothing
 * past the buffer was written, and the buffer holds the whole address (its
 * text and family) or, when shorter, its first buflen bytes ("truncated"). */
void expect_addr(const struct run *r, int nth, const char *call, int family, const char *ip, unsigned port,
		 int buflen);

/* A stream run through the adopted socket.  a holds the activator's
 * arguments and the server's up to its listen; then the server serves n
 * clients in turn, client i by accept (even i) or accept4 (odd i) into an
 * address buffer of buflen[i] bytes (128: a sockaddr_storage, the whole
 * address) and echoes it; it reports getsockname of the listener, the peer
 * from accept/accept4, and getpeername and getsockname of the connection.
 * The clients come through spec (a format, "%u": the port, as for
 * echo_adopted); the run must exit 0 with its first bind adopted and every
 * client answered, and those four addresses of client i must be any:PORT,
 * lo:CLIENT_PORT (twice) and lo:PORT, in `family` (expect_addr). */
void expect_stream_run(struct run *r, struct args *a, const char *spec, int family, const char *any,
		       const char *lo, int n, const int *buflen);

/* The server's first "info: adopted" line says `what`. */
void expect_adopt_log(const struct run *r, const char *what);

/* For a run just started: wait for the activator's socket 0; n clients
 * reach the server through spec (a format: "%u" is that socket's port),
 * each sends "TAG<i>" and must get its echo, its own port goes to cport[i]
 * (when cport is not NULL); then the run must exit 0 with its first bind
 * on socket 0.  Returns the activated port. */
unsigned echo_adopted(struct run *r, const char *spec, const char *tag, int n, unsigned *cport);

#endif
