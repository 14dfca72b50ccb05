/* SPDX-License-Identifier: MIT */
/* spec: the socket address syntax shared by the test helpers and tests.
 *
 *   tcp:127.0.0.1:PORT   tcp:[::1]:PORT   tcp:[::]:PORT
 *   udp:...              (same address forms)
 *   unix:/path  unix-dgram:/path  unix-seqpacket:/path  (relative paths too)
 *   unix:@name  (abstract; also unix-dgram:@name, unix-seqpacket:@name)
 *
 * followed by optional ",KEY=VALUE" options: backlog=N, and socket options
 * set before bind(), in the order given: v6only=0|1, reuseaddr=, reuseport=,
 * keepalive=, rcvbuf=, sndbuf=, nodelay=, keepidle=, defer_accept=,
 * fastopen=, pktinfo=, mtu_discover=, tclass=, tos=, recvpktinfo=,
 * unicast_hops=, ttl=, recvtclass=, mtu_discover6=, mcast_if6= (integer
 * values; see spec_sockopt_find; "domain" is SO_DOMAIN, for getopt). */
#ifndef SDA_TEST_SPEC_H
#define SDA_TEST_SPEC_H

#include <sys/socket.h>

/* A socket option by its short name: "rcvbuf" is SOL_SOCKET/SO_RCVBUF. */
struct spec_sockopt {
	const char *name;             /* "rcvbuf" */
	const char *kernel;           /* "SO_RCVBUF" */
	int level, opt;
};

#define SPEC_MAX_OPTS 16

struct spec {
	int family;                   /* AF_INET, AF_INET6, AF_UNIX */
	int type;                     /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	struct sockaddr_storage ss;
	socklen_t len;
	int backlog;                  /* -1: caller's default */
	struct {
		const struct spec_sockopt *o;
		int value;
	} opt[SPEC_MAX_OPTS];         /* to set before bind(), in this order */
	int nopts;
};

/* Returns 0, or -1 with a reason on stderr. */
int spec_parse(const char *text, struct spec *sp);

/* The option called `name`, or NULL. */
const struct spec_sockopt *spec_sockopt_find(const char *name);

/* setsockopt() of sp's options, in order.  Returns 0, or -errno with *failed
 * (if given) naming the option that failed. */
int spec_set_opts(int fd, const struct spec *sp, const struct spec_sockopt **failed);

/* Human text of an address: "127.0.0.1:80", "[::1]:80", "/path", "@name",
 * "unnamed".  Always NUL-terminates buf; returns buf. */
const char *addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

/* Family name as printed by the helpers: inet, inet6, unix. */
const char *family_name(int family);

/* The port of an inet/inet6 address in host order, or 0. */
unsigned addr_port(const struct sockaddr *sa);

#endif
