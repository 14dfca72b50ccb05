/* SPDX-License-Identifier: MIT */
#include "map6.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>

/* Older headers may lack some; the numbers are the kernel's (linux/in6.h). */
#ifndef IPV6_RECVERR
#define IPV6_RECVERR 25
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO 11
#endif
#ifndef IPV6_FLOWINFO_SEND
#define IPV6_FLOWINFO_SEND 33
#endif
#ifndef IPV6_AUTOFLOWLABEL
#define IPV6_AUTOFLOWLABEL 70
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif
#ifndef IPV6_RECVORIGDSTADDR
#define IPV6_RECVORIGDSTADDR 74
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#ifndef IPV6_RECVFRAGSIZE
#define IPV6_RECVFRAGSIZE 77
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif

#define ANY INT_MIN, INT_MAX      /* a boolean: any int, nonzero is on */
#define TWIN(n, v4, lo, hi) { n, #n, SDA_MAP6_TWIN, v4, #v4, lo, hi }
#define TWIN_BOOL(n, v4) { n, #n, SDA_MAP6_TWIN, v4, #v4, ANY }
#define NOOP(n) { n, #n, SDA_MAP6_NOOP, -1, NULL, ANY }

/* Sorted by nothing; looked up linearly (a cold path: setsockopt and
 * getsockopt of IPPROTO_IPV6 options on a v4-mapped adoption). */
const struct sda_map6_opt sda_map6_opts[] = {
	/* what the program means for its traffic: the IPv4 option of it */
	TWIN(IPV6_TCLASS, IP_TOS, -1, 255),
	TWIN(IPV6_UNICAST_HOPS, IP_TTL, -1, 255),
	TWIN(IPV6_MULTICAST_HOPS, IP_MULTICAST_TTL, -1, 255),
	TWIN(IPV6_MULTICAST_LOOP, IP_MULTICAST_LOOP, 0, 1),
	TWIN(IPV6_MTU_DISCOVER, IP_MTU_DISCOVER, IP_PMTUDISC_DONT, IP_PMTUDISC_OMIT),
	TWIN_BOOL(IPV6_RECVERR, IP_RECVERR),
	TWIN_BOOL(IPV6_MULTICAST_ALL, IP_MULTICAST_ALL),
	TWIN(IPV6_MINHOPCOUNT, IP_MINTTL, 0, 255),
	TWIN_BOOL(IPV6_FREEBIND, IP_FREEBIND),
	TWIN_BOOL(IPV6_TRANSPARENT, IP_TRANSPARENT),
	{ IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", SDA_MAP6_PKTINFO, IP_PKTINFO, "IP_PKTINFO", ANY },
	{ IPV6_V6ONLY, "IPV6_V6ONLY", SDA_MAP6_V6ONLY, -1, NULL, ANY },
	/* about IPv6 headers only: a v4-mapped socket takes them and its IPv4
	 * packets never show them (no control message, no header field) */
	NOOP(IPV6_RECVTCLASS),
	NOOP(IPV6_RECVHOPLIMIT),
	NOOP(IPV6_RECVHOPOPTS),
	NOOP(IPV6_RECVRTHDR),
	NOOP(IPV6_RECVDSTOPTS),
	NOOP(IPV6_RECVPATHMTU),
	NOOP(IPV6_RECVORIGDSTADDR),
	NOOP(IPV6_RECVFRAGSIZE),
	NOOP(IPV6_DONTFRAG),
	NOOP(IPV6_FLOWINFO),
	NOOP(IPV6_FLOWINFO_SEND),
	NOOP(IPV6_AUTOFLOWLABEL),
};
const size_t sda_n_map6_opts = sizeof(sda_map6_opts) / sizeof(sda_map6_opts[0]);

const char *sda_map6_act_name(enum sda_map6_act a)
{
	switch (a) {
	case SDA_MAP6_TWIN: return "twin";
	case SDA_MAP6_PKTINFO: return "pktinfo";
	case SDA_MAP6_V6ONLY: return "v6only";
	case SDA_MAP6_NOOP: return "noop";
	}
	return "?";
}

const struct sda_map6_opt *sda_map6_opt_find(int name)
{
	for (size_t i = 0; i < sda_n_map6_opts; i++)
		if (sda_map6_opts[i].name == name)
			return &sda_map6_opts[i];
	return NULL;
}

long sda_map6_value(const struct sda_map6_opt *o, int v)
{
	if (v < o->lo || v > o->hi)
		return -EINVAL;
	switch (o->act) {
	case SDA_MAP6_V6ONLY:
		return v ? -EINVAL : 0;    /* a bound socket's V6ONLY never changes */
	case SDA_MAP6_TWIN:
		if (o->name == IPV6_TCLASS && v == -1)
			return 0;          /* the kernel's default traffic class */
		if (o->name == IPV6_MULTICAST_HOPS && v == -1)
			return 1;
		if (o->name == IPV6_UNICAST_HOPS && v == 0)
			return 1;          /* IPv4 has no TTL 0: the nearest, one hop */
		return v;
	case SDA_MAP6_PKTINFO:
	case SDA_MAP6_NOOP:
		break;
	}
	return v;
}

/* ---- control messages ------------------------------------------------------ */

#define HDR sizeof(struct cmsghdr)
#define DATA CMSG_LEN(0)          /* offset of the data in a message */

static void put_hdr(unsigned char *p, size_t len, int level, int type)
{
	struct cmsghdr h;

	memset(&h, 0, sizeof(h));
	h.cmsg_len = len;
	h.cmsg_level = level;
	h.cmsg_type = type;
	memcpy(p, &h, sizeof(h));
}

/* The kernel's put_cmsg(): one message into out at *used (cap bytes in
 * all), cut off where the room ends. */
static void put_cmsg(unsigned char *out, size_t cap, size_t *used, int *flags, int level, int type,
		     const void *data, size_t len)
{
	size_t room = cap - *used, cmlen = CMSG_LEN(len);

	if (room < HDR) {
		*flags |= MSG_CTRUNC;
		return;
	}
	if (room < cmlen) {
		*flags |= MSG_CTRUNC;
		cmlen = room;
	}
	put_hdr(out + *used, cmlen, level, type);
	if (cmlen > DATA)
		memcpy(out + *used + DATA, data, cmlen - DATA);
	cmlen = CMSG_SPACE(len) < room ? CMSG_SPACE(len) : room;
	*used += cmlen;
}

size_t sda_map6_cmsg_recv(const unsigned char *in, size_t inlen, unsigned char *out, size_t cap,
			  int *flags)
{
	size_t off = 0, used = 0;

	while (off + HDR <= inlen) {
		struct cmsghdr h;
		struct in_pktinfo pi;
		struct in6_pktinfo pi6;

		memcpy(&h, in + off, sizeof(h));
		if (h.cmsg_len < HDR || h.cmsg_len > inlen - off)
			break;
		if (h.cmsg_level == IPPROTO_IP && h.cmsg_type == IP_PKTINFO &&
		    h.cmsg_len >= CMSG_LEN(sizeof(pi))) {
			memcpy(&pi, in + off + DATA, sizeof(pi));
			memset(&pi6, 0, sizeof(pi6));
			pi6.ipi6_ifindex = (unsigned)pi.ipi_ifindex;
			pi6.ipi6_addr.s6_addr[10] = pi6.ipi6_addr.s6_addr[11] = 0xff;
			memcpy(&pi6.ipi6_addr.s6_addr[12], &pi.ipi_addr, 4);
			put_cmsg(out, cap, &used, flags, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
		} else {
			put_cmsg(out, cap, &used, flags, h.cmsg_level, h.cmsg_type, in + off + DATA,
				 h.cmsg_len > DATA ? h.cmsg_len - DATA : 0);
		}
		off += CMSG_ALIGN(h.cmsg_len);
	}
	return used;
}

long sda_map6_cmsg_send(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t off = 0, o = 0;
	int found = 0;

	/* first: is there anything to translate, and is it well formed? */
	while (off + HDR <= len) {
		struct cmsghdr h;

		memcpy(&h, in + off, sizeof(h));
		if (h.cmsg_len < HDR || h.cmsg_len > len - off)
			return 0;                    /* the kernel's to refuse */
		found |= h.cmsg_level == IPPROTO_IPV6 && h.cmsg_type == IPV6_PKTINFO;
		off += CMSG_ALIGN(h.cmsg_len);
	}
	if (!found)
		return 0;
	for (off = 0; off + HDR <= len;) {
		struct cmsghdr h;
		size_t n;

		memcpy(&h, in + off, sizeof(h));
		n = CMSG_ALIGN(h.cmsg_len);
		if (n > len - off)
			n = len - off;
		if (h.cmsg_level == IPPROTO_IPV6 && h.cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi6;
			struct in_pktinfo pi;

			if (h.cmsg_len < CMSG_LEN(sizeof(pi6)))
				return -EINVAL;
			memcpy(&pi6, in + off + DATA, sizeof(pi6));
			if (!IN6_IS_ADDR_V4MAPPED(&pi6.ipi6_addr) && !IN6_IS_ADDR_UNSPECIFIED(&pi6.ipi6_addr))
				return -EINVAL;
			if (o + CMSG_SPACE(sizeof(pi)) > cap)
				return -ENOSPC;
			memset(&pi, 0, sizeof(pi));
			pi.ipi_ifindex = (int)pi6.ipi6_ifindex;
			memcpy(&pi.ipi_spec_dst, &pi6.ipi6_addr.s6_addr[12], 4);
			memset(out + o, 0, CMSG_SPACE(sizeof(pi)));
			put_hdr(out + o, CMSG_LEN(sizeof(pi)), IPPROTO_IP, IP_PKTINFO);
			memcpy(out + o + DATA, &pi, sizeof(pi));
			o += CMSG_SPACE(sizeof(pi));
		} else {
			if (o + n > cap)
				return -ENOSPC;
			memcpy(out + o, in + off, n);
			o += n;
		}
		off += CMSG_ALIGN(h.cmsg_len);
	}
	return (long)o;
}
