/* SPDX-License-Identifier: MIT */
/* spec: the socket address syntax shared by the test helpers and tests.
 *
 *   tcp:127.0.0.1:PORT   tcp:[::1]:PORT   tcp:[::]:PORT
 *   udp:...              (same address forms)
 *   unix:/path  unix-dgram:/path  unix-seqpacket:/path  (relative paths too)
 *   unix:@name  (abstract; also unix-dgram:@name, unix-seqpacket:@name)
 *
 * followed by optional ",KEY=VALUE" options: v6only=0|1, backlog=N. */
#ifndef SDA_TEST_SPEC_H
#define SDA_TEST_SPEC_H

#include <sys/socket.h>

struct spec {
	int family;                   /* AF_INET, AF_INET6, AF_UNIX */
	int type;                     /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	struct sockaddr_storage ss;
	socklen_t len;
	int v6only;                   /* -1: leave the kernel default */
	int backlog;                  /* -1: caller's default */
};

/* Returns 0, or -1 with a reason on stderr. */
int spec_parse(const char *text, struct spec *sp);

/* Human text of an address: "127.0.0.1:80", "[::1]:80", "/path", "@name",
 * "unnamed".  Always NUL-terminates buf; returns buf. */
const char *addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

/* Family name as printed by the helpers: inet, inet6, unix. */
const char *family_name(int family);

/* The port of an inet/inet6 address in host order, or 0. */
unsigned addr_port(const struct sockaddr *sa);

#endif
