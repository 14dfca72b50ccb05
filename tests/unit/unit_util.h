/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the unit tests: building sda_addr values. */
#ifndef SDA_UNIT_UTIL_H
#define SDA_UNIT_UTIL_H

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "addr.h"

/* An sda_addr for "ip" (v4 or v6 text) and port, through the public decoder. */
static inline struct sda_addr ua_ip(const char *ip, uint16_t port)
{
	struct sda_addr a;
	int r;
	memset(&a, 0xEE, sizeof a);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 s6;
		memset(&s6, 0, sizeof s6);
		s6.sin6_family = AF_INET6;
		s6.sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1, "bad test ip %s", ip);
		r = sda_addr_from_sockaddr((struct sockaddr *)&s6, sizeof s6, &a);
	} else {
		struct sockaddr_in s4;
		memset(&s4, 0, sizeof s4);
		s4.sin_family = AF_INET;
		s4.sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, ip, &s4.sin_addr), 1, "bad test ip %s", ip);
		r = sda_addr_from_sockaddr((struct sockaddr *)&s4, sizeof s4, &a);
	}
	cr_assert_eq(r, 0, "sda_addr_from_sockaddr(%s:%u) = %d", ip, port, r);
	return a;
}

/* A v6 address with a scope id. */
static inline struct sda_addr ua_ip6_scope(const char *ip, uint16_t port, uint32_t scope)
{
	struct sockaddr_in6 s6;
	struct sda_addr a;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(port);
	s6.sin6_scope_id = scope;
	cr_assert_eq(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&s6, sizeof s6, &a), 0);
	return a;
}

/* A unix path address, encoded the way most servers call bind():
 * length = sizeof(struct sockaddr_un). */
static inline struct sda_addr ua_path(const char *path)
{
	struct sockaddr_un su;
	struct sda_addr a;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	cr_assert_lt(strlen(path), sizeof su.sun_path);
	memcpy(su.sun_path, path, strlen(path));
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su, sizeof su, &a), 0, "path %s", path);
	return a;
}

/* An abstract unix address: name bytes (n of them, may include NULs). */
static inline struct sda_addr ua_abstract(const void *name, size_t n)
{
	struct sockaddr_un su;
	struct sda_addr a;
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	cr_assert_lt(n, sizeof su.sun_path);
	memcpy(su.sun_path + 1, name, n);
	cr_assert_eq(sda_addr_from_sockaddr((struct sockaddr *)&su,
					    offsetof(struct sockaddr_un, sun_path) + 1 + n, &a),
		     0);
	return a;
}

#endif
