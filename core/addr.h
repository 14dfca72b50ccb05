/* SPDX-License-Identifier: MIT */
/* addr: socket addresses as keys, as text, and v4-mapped translation. */
#ifndef SDA_ADDR_H
#define SDA_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A normalised socket address: what a bind names, independent of the length
 * quirks of sockaddr_un.  For AF_UNIX, path[] holds the path (NUL terminated,
 * plen excluding the NUL) or, when abstract, the name bytes after the leading
 * NUL (plen bytes, may contain NULs). */
struct sda_addr {
	int family;                 /* AF_INET, AF_INET6, AF_UNIX */
	uint16_t port;              /* host order; 0 for AF_UNIX */
	uint32_t scope_id;          /* AF_INET6 only */
	unsigned char ip[16];       /* AF_INET: 4 bytes used; AF_INET6: 16 */
	int abstract;               /* AF_UNIX only */
	size_t plen;
	char path[109];             /* sun_path is 108 bytes; +1 for the NUL */
};

/* Decode a sockaddr. Returns 0, -EAFNOSUPPORT for other families, -EINVAL
 * for a length too short for the family or an unnamed unix address. */
int sda_addr_from_sockaddr(const struct sockaddr *sa, size_t len, struct sda_addr *out);

/* Total order over addresses: family, port, ip, the scope of a link-local
 * IPv6 address (ignored on others, as the kernel does), or unix name. */
int sda_addr_cmp(const struct sda_addr *a, const struct sda_addr *b);

/* True when the address is the wildcard of its family (0.0.0.0 or ::). */
int sda_addr_is_wildcard(const struct sda_addr *a);

/* Text for logs: "127.0.0.1:80", "[::1]:80", "/run/x.sock", "@name".
 * Non-printable bytes are escaped.  Always NUL terminates (when cap > 0);
 * returns the length written.  Needs no allocation. */
size_t sda_addr_format(const struct sda_addr *a, char *buf, size_t cap);

/* Text for a socket type: "tcp"/"udp"/"stream"/"dgram"/"seqpacket"... */
const char *sda_type_name(int family, int type);

/* If sa (of length *len) is an AF_INET6 v4-mapped address, or the IPv6
 * wildcard "::" (a dual-stack listener's own name), rewrite it in place as a
 * sockaddr_in (0.0.0.0 for "::") and set *len = sizeof(struct sockaddr_in).
 * sa must have room for a sockaddr_in6.  Returns 1 if rewritten, else 0. */
int sda_addr_unmap_v4(struct sockaddr *sa, socklen_t *len);

/* IPv4-mapped IPv6 addresses (::ffff:a.b.c.d; ::ffff:0.0.0.0 is the IPv4
 * wildcard): an IPv6 socket binds them to take IPv4 traffic, as the JVM does.
 * sda_addr_v4_of(): is `a` such an address?  1 and *v4 (if given) the IPv4
 * address it stands for (AF_INET, same port), else 0 ("::" included).
 * sda_addr_mapped_of(): the reverse, AF_INET -> AF_INET6 ::ffff:a.b.c.d. */
int sda_addr_v4_of(const struct sda_addr *a, struct sda_addr *v4);
int sda_addr_mapped_of(const struct sda_addr *a, struct sda_addr *v6);

/* The other direction of sda_addr_unmap_v4(), for an IPv6 program on an
 * IPv4 socket: if sa (of length *len) is a sockaddr_in, rewrite it in place
 * as the v4-mapped sockaddr_in6 (::ffff:a.b.c.d, 0.0.0.0 as ::ffff:0.0.0.0;
 * same port; flowinfo and scope 0) and set *len = sizeof(struct
 * sockaddr_in6).  sa must have room for a sockaddr_in6.  Returns 1 if
 * rewritten, else 0. */
int sda_addr_map_v6(struct sockaddr *sa, socklen_t *len);

/* An address such a program hands the kernel (sendto, sendmsg, connect):
 * a sockaddr_in6 of at least the 24 bytes of RFC 2133 with a v4-mapped
 * address, or "::" (loopback, to the kernel), as the sockaddr_in the IPv4
 * socket takes.  Returns 1 and fills *out, or 0: leave it to the kernel. */
int sda_addr_unmap_dest(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out);

#endif
