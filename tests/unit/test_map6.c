/* SPDX-License-Identifier: MIT */
/* Unit tests of core/map6: the IPv6-level option decisions and the control
 * messages of an IPv6 program on an IPv4 socket (v4-mapped adoption). */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "map6.h"

/* ---- the option table -------------------------------------------------------- */

Test(map6_opts, table)
{
	for (size_t i = 0; i < sda_n_map6_opts; i++) {
		const struct sda_map6_opt *o = &sda_map6_opts[i];
		cr_assert_not_null(o->text);
		cr_assert(!strncmp(o->text, "IPV6_", 5), "%s", o->text);
		cr_assert_eq(sda_map6_opt_find(o->name), o, "%s is in the table twice", o->text);
		if (o->act == SDA_MAP6_TWIN || o->act == SDA_MAP6_PKTINFO)
			cr_assert(o->v4name >= 0 && o->v4text && !strncmp(o->v4text, "IP_", 3), "%s", o->text);
		else
			cr_assert(o->v4name < 0 && !o->v4text, "%s", o->text);
		cr_assert_leq(o->lo, o->hi);
	}
	cr_assert_null(sda_map6_opt_find(IPV6_MULTICAST_IF), "not decided: the IPv4 socket answers");
	cr_assert_null(sda_map6_opt_find(IPV6_JOIN_GROUP));
	cr_assert_str_eq(sda_map6_act_name(SDA_MAP6_TWIN), "twin");
	cr_assert_str_eq(sda_map6_act_name(SDA_MAP6_NOOP), "noop");
	cr_assert_str_eq(sda_map6_opt_find(IPV6_TCLASS)->v4text, "IP_TOS");
	cr_assert_eq(sda_map6_opt_find(IPV6_RECVPKTINFO)->act, SDA_MAP6_PKTINFO);
	cr_assert_eq(sda_map6_opt_find(IPV6_V6ONLY)->act, SDA_MAP6_V6ONLY);
	cr_assert_eq(sda_map6_opt_find(IPV6_RECVTCLASS)->act, SDA_MAP6_NOOP);
}

Test(map6_opts, values)
{
	const struct sda_map6_opt *tc = sda_map6_opt_find(IPV6_TCLASS), *hops = sda_map6_opt_find(IPV6_UNICAST_HOPS),
				  *mh = sda_map6_opt_find(IPV6_MULTICAST_HOPS),
				  *loop = sda_map6_opt_find(IPV6_MULTICAST_LOOP),
				  *pmtu = sda_map6_opt_find(IPV6_MTU_DISCOVER), *v6 = sda_map6_opt_find(IPV6_V6ONLY),
				  *err = sda_map6_opt_find(IPV6_RECVERR);
	cr_assert_eq(sda_map6_value(tc, 0x28), 0x28);
	cr_assert_eq(sda_map6_value(tc, -1), 0, "-1: the default traffic class");
	cr_assert_eq(sda_map6_value(tc, 256), -EINVAL);
	cr_assert_eq(sda_map6_value(tc, -2), -EINVAL);
	cr_assert_eq(sda_map6_value(hops, -1), -1, "IP_TTL takes -1 (the default) itself");
	cr_assert_eq(sda_map6_value(hops, 0), 1, "IP_TTL refuses 0");
	cr_assert_eq(sda_map6_value(hops, 64), 64);
	cr_assert_eq(sda_map6_value(hops, 256), -EINVAL);
	cr_assert_eq(sda_map6_value(mh, -1), 1);
	cr_assert_eq(sda_map6_value(loop, 2), -EINVAL);
	cr_assert_eq(sda_map6_value(pmtu, IP_PMTUDISC_OMIT), IP_PMTUDISC_OMIT);
	cr_assert_eq(sda_map6_value(pmtu, IP_PMTUDISC_OMIT + 1), -EINVAL);
	cr_assert_eq(sda_map6_value(v6, 0), 0);
	cr_assert_eq(sda_map6_value(v6, 1), -EINVAL, "a bound socket's V6ONLY never changes");
	cr_assert_eq(sda_map6_value(err, INT_MIN), INT_MIN, "a boolean: any int");
}

/* ---- control messages ------------------------------------------------------- */

/* Append one message to buf (at *n, with its padding). */
static void add(unsigned char *buf, size_t *n, int level, int type, const void *data, size_t len)
{
	struct cmsghdr h = { .cmsg_len = CMSG_LEN(len), .cmsg_level = level, .cmsg_type = type };
	memset(buf + *n, 0, CMSG_SPACE(len));
	memcpy(buf + *n, &h, sizeof h);
	memcpy(buf + *n + CMSG_LEN(0), data, len);
	*n += CMSG_SPACE(len);
}

static struct cmsghdr hdr_at(const unsigned char *buf, size_t off)
{
	struct cmsghdr h;
	memcpy(&h, buf + off, sizeof h);
	return h;
}

/* What the kernel writes for an IPv4 datagram with SO_TIMESTAMP, IP_PKTINFO
 * (to 127.0.0.5 on ifindex 3) and IP_RECVTOS. */
static size_t kernel_msgs(unsigned char *in)
{
	struct timeval tv = { 1, 2 };
	struct in_pktinfo pi = { .ipi_ifindex = 3 };
	unsigned char tos = 0x10;
	size_t n = 0;

	inet_pton(AF_INET, "127.0.0.5", &pi.ipi_addr);
	inet_pton(AF_INET, "127.0.0.5", &pi.ipi_spec_dst);
	add(in, &n, SOL_SOCKET, SO_TIMESTAMP, &tv, sizeof tv);
	add(in, &n, IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
	add(in, &n, IPPROTO_IP, IP_TOS, &tos, 1);
	return n;
}

Test(map6_cmsg, recv_pktinfo_becomes_ipv6)
{
	union { struct cmsghdr a; unsigned char b[512]; } in, out;
	size_t inlen = kernel_msgs(in.b);
	int flags = 0;
	const size_t full = CMSG_SPACE(sizeof(struct timeval)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(1);

	memset(out.b, 0xA5, sizeof out.b);
	size_t n = sda_map6_cmsg_recv(in.b, inlen, out.b, sizeof out.b, &flags);
	cr_assert_eq(n, full, "%zu bytes, want %zu", n, full);
	cr_assert_eq(flags, 0);
	/* walk it as a program does */
	struct msghdr m = { .msg_control = out.b, .msg_controllen = n };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	cr_assert(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP);
	struct timeval tv;
	memcpy(&tv, CMSG_DATA(c), sizeof tv);
	cr_assert(tv.tv_sec == 1 && tv.tv_usec == 2, "the others pass unchanged");
	c = CMSG_NXTHDR(&m, c);
	cr_assert(c && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(struct in6_pktinfo)));
	struct in6_pktinfo pi6;
	memcpy(&pi6, CMSG_DATA(c), sizeof pi6);
	cr_assert_eq(pi6.ipi6_ifindex, 3u);
	char txt[64];
	inet_ntop(AF_INET6, &pi6.ipi6_addr, txt, sizeof txt);
	cr_assert_str_eq(txt, "::ffff:127.0.0.5");
	c = CMSG_NXTHDR(&m, c);
	cr_assert(c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && c->cmsg_len == CMSG_LEN(1));
	cr_assert_eq(*CMSG_DATA(c), 0x10);
	cr_assert_null(CMSG_NXTHDR(&m, c));
	cr_assert_eq(out.b[full], 0xA5, "written past the messages");
}

/* The program's buffer is short: cut as the kernel's put_cmsg() cuts. */
Test(map6_cmsg, recv_cut_as_the_kernel_cuts)
{
	union { struct cmsghdr a; unsigned char b[512]; } in, out;
	size_t inlen = kernel_msgs(in.b);
	const size_t ts = CMSG_SPACE(sizeof(struct timeval)), pk = CMSG_SPACE(sizeof(struct in6_pktinfo));
	static const struct {
		size_t cap, used;
		int trunc;
		size_t last_len;            /* cmsg_len of the last message written */
	} cases[] = {
		/* the padding of the last one cut: no MSG_CTRUNC (as put_cmsg) */
		{ CMSG_SPACE(sizeof(struct timeval)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_LEN(1),
		  CMSG_SPACE(sizeof(struct timeval)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_LEN(1), 0,
		  CMSG_LEN(1) },
		/* no room for the IP_TOS header */
		{ CMSG_SPACE(sizeof(struct timeval)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + 8,
		  CMSG_SPACE(sizeof(struct timeval)) + CMSG_SPACE(sizeof(struct in6_pktinfo)), 1,
		  CMSG_LEN(sizeof(struct in6_pktinfo)) },
		/* IPV6_PKTINFO cut in its data */
		{ CMSG_SPACE(sizeof(struct timeval)) + 30, CMSG_SPACE(sizeof(struct timeval)) + 30, 1, 30 },
		/* IPV6_PKTINFO without its padding */
		{ CMSG_SPACE(sizeof(struct timeval)) + CMSG_LEN(sizeof(struct in6_pktinfo)),
		  CMSG_SPACE(sizeof(struct timeval)) + CMSG_LEN(sizeof(struct in6_pktinfo)), 1,
		  CMSG_LEN(sizeof(struct in6_pktinfo)) },
		/* room for less than one header */
		{ 10, 0, 1, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int flags = 0;
		memset(out.b, 0xA5, sizeof out.b);
		size_t n = sda_map6_cmsg_recv(in.b, inlen, out.b, cases[i].cap, &flags);
		cr_assert_eq(n, cases[i].used, "case %zu: %zu bytes, want %zu", i, n, cases[i].used);
		cr_assert_eq(!!(flags & MSG_CTRUNC), cases[i].trunc, "case %zu: MSG_CTRUNC", i);
		cr_assert_eq(out.b[cases[i].cap], 0xA5, "case %zu: written past the program's buffer", i);
		if (cases[i].last_len) {
			size_t off = n > ts + pk ? ts + pk : ts;
			cr_assert_eq(hdr_at(out.b, off).cmsg_len, cases[i].last_len, "case %zu", i);
		}
	}
}

Test(map6_cmsg, send_pktinfo_becomes_ipv4)
{
	union { struct cmsghdr a; unsigned char b[256]; } in, out;
	struct in6_pktinfo pi6 = { .ipi6_ifindex = 2 };
	int mark = 7;
	size_t n = 0;

	inet_pton(AF_INET6, "::ffff:10.1.2.3", &pi6.ipi6_addr);
	add(in.b, &n, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
	add(in.b, &n, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
	long r = sda_map6_cmsg_send(in.b, n, out.b, sizeof out.b);
	cr_assert_eq(r, (long)(CMSG_SPACE(sizeof mark) + CMSG_SPACE(sizeof(struct in_pktinfo))));
	struct msghdr m = { .msg_control = out.b, .msg_controllen = (size_t)r };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	cr_assert(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_MARK);
	c = CMSG_NXTHDR(&m, c);
	cr_assert(c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		  c->cmsg_len == CMSG_LEN(sizeof(struct in_pktinfo)));
	struct in_pktinfo pi;
	memcpy(&pi, CMSG_DATA(c), sizeof pi);
	cr_assert_eq(pi.ipi_ifindex, 2);
	cr_assert_eq(pi.ipi_spec_dst.s_addr, htonl(0x0a010203), "the source is ipi_spec_dst");
	cr_assert_eq(pi.ipi_addr.s_addr, 0);

	/* "::": the route picks the source; the interface stays */
	n = 0;
	memset(&pi6.ipi6_addr, 0, sizeof pi6.ipi6_addr);
	add(in.b, &n, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
	r = sda_map6_cmsg_send(in.b, n, out.b, sizeof out.b);
	cr_assert_eq(r, (long)CMSG_SPACE(sizeof(struct in_pktinfo)));
	memcpy(&pi, out.b + CMSG_LEN(0), sizeof pi);
	cr_assert(pi.ipi_spec_dst.s_addr == 0 && pi.ipi_ifindex == 2);

	/* a real IPv6 source: EINVAL, as a v4-mapped socket says */
	n = 0;
	inet_pton(AF_INET6, "2001:db8::1", &pi6.ipi6_addr);
	add(in.b, &n, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
	cr_assert_eq(sda_map6_cmsg_send(in.b, n, out.b, sizeof out.b), -EINVAL);
	/* a short one: EINVAL */
	n = 0;
	add(in.b, &n, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, 8);
	cr_assert_eq(sda_map6_cmsg_send(in.b, n, out.b, sizeof out.b), -EINVAL);
	/* no room */
	n = 0;
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &pi6.ipi6_addr);
	add(in.b, &n, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof pi6);
	cr_assert_eq(sda_map6_cmsg_send(in.b, n, out.b, 16), -ENOSPC);
	/* nothing to translate, or malformed: 0, the program's own go out */
	n = 0;
	add(in.b, &n, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
	cr_assert_eq(sda_map6_cmsg_send(in.b, n, out.b, sizeof out.b), 0);
	struct cmsghdr bad = { .cmsg_len = 4096, .cmsg_level = IPPROTO_IPV6, .cmsg_type = IPV6_PKTINFO };
	memcpy(in.b, &bad, sizeof bad);
	cr_assert_eq(sda_map6_cmsg_send(in.b, 64, out.b, sizeof out.b), 0);
}
