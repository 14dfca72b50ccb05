/* SPDX-License-Identifier: MIT */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

int sda_addr_from_sockaddr(const struct sockaddr *sa, size_t len, struct sda_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa || len < sizeof(sa_family_t))
		return -EINVAL;
	out->family = sa->sa_family;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (len < sizeof(*in))
			return -EINVAL;
		out->port = ntohs(in->sin_port);
		memcpy(out->ip, &in->sin_addr, 4);
		return 0;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (len < sizeof(*in6))
			return -EINVAL;
		out->port = ntohs(in6->sin6_port);
		memcpy(out->ip, &in6->sin6_addr, 16);
		out->scope_id = in6->sin6_scope_id;
		return 0;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t n;

		if (len > sizeof(*un))
			len = sizeof(*un);
		if (len <= off)
			return -EINVAL;              /* unnamed (autobind) */
		n = len - off;
		if (un->sun_path[0] == '\0') {
			if (n < 2)
				return -EINVAL;      /* "\0" alone: autobind */
			out->abstract = 1;
			out->plen = n - 1;
			memcpy(out->path, un->sun_path + 1, out->plen);
			return 0;
		}
		/* a path ends at the first NUL or at the length */
		n = strnlen(un->sun_path, n);
		memcpy(out->path, un->sun_path, n);
		out->path[n] = '\0';
		out->plen = n;
		return 0;
	}
	default:
		return -EAFNOSUPPORT;
	}
}

static int cmp_int(long a, long b)
{
	return (a > b) - (a < b);
}

int sda_addr_cmp(const struct sda_addr *a, const struct sda_addr *b)
{
	int c;

	if ((c = cmp_int(a->family, b->family)))
		return c;
	if (a->family == AF_UNIX) {
		size_t n = a->plen < b->plen ? a->plen : b->plen;

		if ((c = cmp_int(a->abstract, b->abstract)))
			return c;
		if ((c = memcmp(a->path, b->path, n)))
			return c;
		return cmp_int((long)a->plen, (long)b->plen);
	}
	if ((c = cmp_int(a->port, b->port)))
		return c;
	if ((c = memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16)))
		return c;
	/* a scope only names an interface for link-local addresses (fe80::/10);
	 * the kernel ignores it on others */
	if (a->family == AF_INET6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80)
		return cmp_int(a->scope_id, b->scope_id);
	return 0;
}

int sda_addr_is_wildcard(const struct sda_addr *a)
{
	static const unsigned char zero[16];

	if (a->family == AF_INET)
		return memcmp(a->ip, zero, 4) == 0;
	if (a->family == AF_INET6)
		return memcmp(a->ip, zero, 16) == 0;
	return 0;
}

struct sbuf {
	char *p;
	size_t cap, len;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_putu(struct sbuf *b, unsigned long v)
{
	char t[24];
	int i = 0;

	do
		t[i++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (i)
		sb_putc(b, t[--i]);
}

static void sb_put_escaped(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			sb_putc(b, (char)c);
		} else {
			sb_putc(b, '\\');
			sb_putc(b, 'x');
			sb_putc(b, hex[c >> 4]);
			sb_putc(b, hex[c & 15]);
		}
	}
}

size_t sda_addr_format(const struct sda_addr *a, char *buf, size_t cap)
{
	struct sbuf b = { buf, cap, 0 };
	char ip[INET6_ADDRSTRLEN];

	if (!cap)
		return 0;
	switch (a->family) {
	case AF_INET:
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
		sb_puts(&b, ip);
		sb_putc(&b, ':');
		sb_putu(&b, a->port);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		sb_putc(&b, '[');
		sb_puts(&b, ip);
		if (a->scope_id) {
			sb_putc(&b, '%');
			sb_putu(&b, a->scope_id);
		}
		sb_puts(&b, "]:");
		sb_putu(&b, a->port);
		break;
	case AF_UNIX:
		if (a->abstract)
			sb_putc(&b, '@');
		sb_put_escaped(&b, a->path, a->plen);
		break;
	default:
		sb_puts(&b, "family ");
		sb_putu(&b, (unsigned long)a->family);
		break;
	}
	buf[b.len] = '\0';
	return b.len;
}

const char *sda_type_name(int family, int type)
{
	int inet = family == AF_INET || family == AF_INET6;

	switch (type) {
	case SOCK_STREAM: return inet ? "tcp" : "stream";
	case SOCK_DGRAM: return inet ? "udp" : "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	case SOCK_RAW: return "raw";
	default: return "socket";
	}
}

int sda_addr_unmap_v4(struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;

	if (sa->sa_family != AF_INET6 || *len < sizeof(in6))
		return 0;
	memcpy(&in6, sa, sizeof(in6));
	if (!IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr) && !IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr))
		return 0;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = in6.sin6_port;
	memcpy(&in.sin_addr, &in6.sin6_addr.s6_addr[12], 4);
	memcpy(sa, &in, sizeof(in));
	*len = sizeof(in);
	return 1;
}

int sda_addr_v4_of(const struct sda_addr *a, struct sda_addr *v4)
{
	static const unsigned char prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a->family != AF_INET6 || memcmp(a->ip, prefix, sizeof(prefix)) != 0)
		return 0;
	if (v4) {
		memset(v4, 0, sizeof(*v4));
		v4->family = AF_INET;
		v4->port = a->port;
		memcpy(v4->ip, a->ip + 12, 4);
	}
	return 1;
}

int sda_addr_mapped_of(const struct sda_addr *a, struct sda_addr *v6)
{
	if (a->family != AF_INET)
		return 0;
	memset(v6, 0, sizeof(*v6));
	v6->family = AF_INET6;
	v6->port = a->port;
	v6->ip[10] = v6->ip[11] = 0xff;
	memcpy(v6->ip + 12, a->ip, 4);
	return 1;
}

int sda_addr_map_v6(struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;

	if (sa->sa_family != AF_INET || *len < sizeof(in))
		return 0;
	memcpy(&in, sa, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	in6.sin6_port = in.sin_port;
	in6.sin6_addr.s6_addr[10] = in6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&in6.sin6_addr.s6_addr[12], &in.sin_addr, 4);
	memcpy(sa, &in6, sizeof(in6));
	*len = sizeof(in6);
	return 1;
}

int sda_addr_unmap_dest(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out)
{
	struct sockaddr_in6 in6;

	/* sin6_scope_id is the last member: RFC 2133's sockaddr_in6 lacks it */
	if (!sa || len < offsetof(struct sockaddr_in6, sin6_scope_id) || sa->sa_family != AF_INET6)
		return 0;
	memset(&in6, 0, sizeof(in6));
	memcpy(&in6, sa, len < sizeof(in6) ? len : sizeof(in6));
	if (!IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr) && !IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr))
		return 0;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = in6.sin6_port;
	memcpy(&out->sin_addr, &in6.sin6_addr.s6_addr[12], 4);
	return 1;
}
