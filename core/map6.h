/* SPDX-License-Identifier: MIT */
/* map6: an IPv6 program on an IPv4 socket.  A v4-mapped bind
 * ([::ffff:a.b.c.d], the JVM's) adopts an AF_INET socket; the program still
 * believes it holds an AF_INET6 socket bound to the v4-mapped address.  What
 * a real v4-mapped socket would show it, decided here: the IPv6-level socket
 * options (each one's decision in sda_map6_opts[], documented in
 * docs/socket-options.md) and the control messages of recvmsg()/sendmsg().
 * The addresses themselves: sda_addr_map_v6() and sda_addr_unmap_dest() in
 * addr.h. */
#ifndef SDA_MAP6_H
#define SDA_MAP6_H

#include <stddef.h>
#include <sys/socket.h>

enum sda_map6_act {
	SDA_MAP6_TWIN,     /* the IPv4 option of the same meaning, set and read */
	SDA_MAP6_PKTINFO,  /* IPV6_RECVPKTINFO: IP_PKTINFO, whose control messages
			    * recvmsg() shows as IPV6_PKTINFO */
	SDA_MAP6_V6ONLY,   /* reads 0; setting 0 does nothing, 1 fails with EINVAL */
	SDA_MAP6_NOOP,     /* only about IPv6 packets, of which the socket has none:
			    * accepted, does nothing, reads 0 */
};

struct sda_map6_opt {
	int name;                 /* IPPROTO_IPV6 option */
	const char *text;         /* "IPV6_TCLASS" */
	enum sda_map6_act act;
	int v4name;               /* IPPROTO_IP twin (TWIN, PKTINFO), else -1 */
	const char *v4text;       /* "IP_TOS", or NULL */
	int lo, hi;               /* values the IPv6 option takes (else EINVAL) */
};

extern const struct sda_map6_opt sda_map6_opts[];
extern const size_t sda_n_map6_opts;

const char *sda_map6_act_name(enum sda_map6_act a);

/* The decision for IPPROTO_IPV6 option `name`, or NULL: not in the table,
 * the IPv4 socket answers (ENOPROTOOPT). */
const struct sda_map6_opt *sda_map6_opt_find(int name);

/* The IPv4 value for setting o to v (an int the program passed), or
 * -EINVAL when the IPv6 option refuses v.  IPV6_TCLASS -1 (the default)
 * is 0; IPV6_MULTICAST_HOPS -1 is 1; IPV6_UNICAST_HOPS 0 is 1 (IP_TTL
 * refuses 0). */
long sda_map6_value(const struct sda_map6_opt *o, int v);

/* recvmsg() with IPV6_RECVPKTINFO asked: the kernel wrote inlen bytes of
 * the IPv4 socket's control messages into in (the shim's buffer, larger than
 * the program's).  Write them into out (the program's, cap bytes) as a
 * v4-mapped socket would: each IP_PKTINFO as the IPV6_PKTINFO it gives
 * (interface, v4-mapped destination), the others as they are, cut off
 * where cap ends as the kernel's put_cmsg() cuts (MSG_CTRUNC into *flags).
 * Returns the bytes written: the program's msg_controllen. */
size_t sda_map6_cmsg_recv(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap,
			  int *flags);

/* sendmsg(): the program's control messages (len bytes at in) for the IPv4
 * socket, into out (cap bytes): IPV6_PKTINFO becomes IP_PKTINFO (source
 * ipi_spec_dst and interface; "::" leaves the source to the route), as a
 * v4-mapped socket takes it; everything else is copied (the IPv4 socket
 * ignores the other IPPROTO_IPV6 ones, as a v4-mapped socket does).
 * Returns the new length; 0 when nothing needs translating (send the
 * program's own); -EINVAL for an IPV6_PKTINFO source that is neither
 * v4-mapped nor "::" (the kernel's answer); -ENOSPC when out is too small. */
long sda_map6_cmsg_send(const unsigned char *in, size_t len, unsigned char *out, size_t cap);

#endif
