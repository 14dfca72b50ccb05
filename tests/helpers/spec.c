/* SPDX-License-Identifier: MIT */
#include "spec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static int bad(const char *text, const char *why)
{
	fprintf(stderr, "bad socket spec '%s': %s\n", text, why);
	return -1;
}

static int parse_num(const char *s, long max, long *out)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "127.0.0.1:80" or "[::1]:80" into sp. */
static int parse_inet(const char *text, const char *a, struct spec *sp)
{
	char host[64];
	const char *port;
	long p;

	if (a[0] == '[') {
		const char *close = strchr(a, ']');
		if (!close || close[1] != ':' || (size_t)(close - a - 1) >= sizeof host)
			return bad(text, "expected [ADDRESS]:PORT");
		memcpy(host, a + 1, (size_t)(close - a - 1));
		host[close - a - 1] = 0;
		port = close + 2;
		sp->family = AF_INET6;
	} else {
		const char *colon = strrchr(a, ':');
		if (!colon || (size_t)(colon - a) >= sizeof host)
			return bad(text, "expected ADDRESS:PORT");
		memcpy(host, a, (size_t)(colon - a));
		host[colon - a] = 0;
		port = colon + 1;
		sp->family = AF_INET;
	}
	if (parse_num(port, 65535, &p) < 0)
		return bad(text, "bad port");

	if (sp->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&sp->ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)p);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return bad(text, "bad IPv4 address");
		sp->len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sp->ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)p);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return bad(text, "bad IPv6 address");
		sp->len = sizeof *sin6;
	}
	return 0;
}

static int parse_unix(const char *text, const char *a, struct spec *sp)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&sp->ss;
	size_t n = strlen(a);

	sun->sun_family = AF_UNIX;
	sp->family = AF_UNIX;
	if (a[0] == '@') {
		if (n < 2 || n > sizeof sun->sun_path)
			return bad(text, "bad abstract name length");
		sun->sun_path[0] = 0;
		memcpy(sun->sun_path + 1, a + 1, n - 1);
		sp->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		if (n == 0 || n >= sizeof sun->sun_path)
			return bad(text, "bad unix path length");
		memcpy(sun->sun_path, a, n + 1);
		sp->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

static const struct spec_sockopt sockopts[] = {
	{ "v6only", "IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY },
	{ "reuseaddr", "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR },
	{ "reuseport", "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT },
	{ "keepalive", "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE },
	{ "rcvbuf", "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF },
	{ "sndbuf", "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF },
	{ "nodelay", "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY },
	{ "keepidle", "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE },
	{ "defer_accept", "TCP_DEFER_ACCEPT", IPPROTO_TCP, TCP_DEFER_ACCEPT },
	{ "fastopen", "TCP_FASTOPEN", IPPROTO_TCP, TCP_FASTOPEN },
	{ "pktinfo", "IP_PKTINFO", IPPROTO_IP, IP_PKTINFO },
	{ "mtu_discover", "IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER },
	/* IPv6-level ones, and their IPv4 twins (v4-mapped adoption) */
	{ "tclass", "IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS },
	{ "tos", "IP_TOS", IPPROTO_IP, IP_TOS },
	{ "recvpktinfo", "IPV6_RECVPKTINFO", IPPROTO_IPV6, IPV6_RECVPKTINFO },
	{ "unicast_hops", "IPV6_UNICAST_HOPS", IPPROTO_IPV6, IPV6_UNICAST_HOPS },
	{ "ttl", "IP_TTL", IPPROTO_IP, IP_TTL },
	{ "recvtclass", "IPV6_RECVTCLASS", IPPROTO_IPV6, IPV6_RECVTCLASS },
	{ "mtu_discover6", "IPV6_MTU_DISCOVER", IPPROTO_IPV6, IPV6_MTU_DISCOVER },
	{ "mcast_if6", "IPV6_MULTICAST_IF", IPPROTO_IPV6, IPV6_MULTICAST_IF },
	{ "domain", "SO_DOMAIN", SOL_SOCKET, SO_DOMAIN },
};

const struct spec_sockopt *spec_sockopt_find(const char *name)
{
	for (size_t i = 0; i < sizeof sockopts / sizeof sockopts[0]; i++)
		if (!strcmp(sockopts[i].name, name))
			return &sockopts[i];
	return NULL;
}

int spec_set_opts(int fd, const struct spec *sp, const struct spec_sockopt **failed)
{
	for (int i = 0; i < sp->nopts; i++)
		if (setsockopt(fd, sp->opt[i].o->level, sp->opt[i].o->opt, &sp->opt[i].value,
			       sizeof sp->opt[i].value) < 0) {
			if (failed)
				*failed = sp->opt[i].o;
			return -errno;
		}
	return 0;
}

/* "name=VALUE" of a socket option into sp; -1 if it is not one. */
static int parse_sockopt(const char *kv, struct spec *sp)
{
	char name[32];
	const char *eq = strchr(kv, '=');
	const struct spec_sockopt *o;
	long v;

	if (!eq || (size_t)(eq - kv) >= sizeof name || sp->nopts == SPEC_MAX_OPTS)
		return -1;
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = 0;
	if (!(o = spec_sockopt_find(name)) || parse_num(eq + 1, INT_MAX, &v) < 0)
		return -1;
	sp->opt[sp->nopts].o = o;
	sp->opt[sp->nopts].value = (int)v;
	sp->nopts++;
	return 0;
}

int spec_parse(const char *text, struct spec *sp)
{
	static const struct { const char *prefix; int family, type; } kinds[] = {
		{ "tcp:", AF_INET, SOCK_STREAM },
		{ "udp:", AF_INET, SOCK_DGRAM },
		{ "unix:", AF_UNIX, SOCK_STREAM },
		{ "unix-dgram:", AF_UNIX, SOCK_DGRAM },
		{ "unix-seqpacket:", AF_UNIX, SOCK_SEQPACKET },
	};
	char buf[512];
	char *opts;
	size_t k;

	memset(sp, 0, sizeof *sp);
	sp->backlog = -1;
	if (strlen(text) >= sizeof buf)
		return bad(text, "too long");
	strcpy(buf, text);
	opts = strchr(buf, ',');
	if (opts)
		*opts++ = 0;

	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
		if (strncmp(buf, kinds[k].prefix, strlen(kinds[k].prefix)) == 0)
			break;
	if (k == sizeof kinds / sizeof kinds[0])
		return bad(text, "unknown kind (tcp: udp: unix: unix-dgram: unix-seqpacket:)");
	sp->type = kinds[k].type;
	const char *rest = buf + strlen(kinds[k].prefix);
	if ((kinds[k].family == AF_UNIX ? parse_unix : parse_inet)(text, rest, sp) < 0)
		return -1;

	while (opts && *opts) {
		char *next = strchr(opts, ',');
		long v;
		if (next)
			*next++ = 0;
		if (strncmp(opts, "backlog=", 8) == 0 && parse_num(opts + 8, INT_MAX, &v) == 0)
			sp->backlog = (int)v;
		else if (parse_sockopt(opts, sp) < 0)
			return bad(text, "unknown option (backlog=N, or a socket option: v6only=0|1, rcvbuf=N, ...)");
		opts = next;
	}
	return 0;
}

const char *family_name(int family)
{
	switch (family) {
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_UNIX: return "unix";
	default: return "other";
	}
}

unsigned addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

const char *addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (cap == 0)
		return buf;
	buf[0] = 0;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
		snprintf(buf, cap, "%s:%u", ip, addr_port(sa));
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
		snprintf(buf, cap, "[%s]:%u", ip, addr_port(sa));
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t n = len > off ? len - off : 0;
		if (n == 0)
			snprintf(buf, cap, "unnamed");
		else if (sun->sun_path[0] == 0)
			snprintf(buf, cap, "@%.*s", (int)(n - 1), sun->sun_path + 1);
		else
			snprintf(buf, cap, "%.*s", (int)strnlen(sun->sun_path, n), sun->sun_path);
	} else {
		snprintf(buf, cap, "family-%d", sa->sa_family);
	}
	return buf;
}
