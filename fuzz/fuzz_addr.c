/* SPDX-License-Identifier: MIT */
/* Fuzz target: sda_addr_from_sockaddr(), sda_addr_format(), sda_addr_cmp(),
 * sda_addr_is_wildcard(), sda_addr_unmap_v4() and sda_type_name(), each
 * against an oracle written here from addr.h's contract.
 *
 * Two addresses are the same when family, port and address are (unix: the
 * path or abstract name and which of the two); an IPv6 scope id counts only
 * on link-local addresses.
 *
 * Input: three address records, each
 *     u8 sel   (sel % 4: 0 AF_INET, 1 AF_INET6, 2 AF_UNIX, 3 raw family)
 *     u8 len   (the sockaddr length handed to core; bit pattern 0xff means
 *               "u16 follows" for lengths past 255)
 *     len bytes (the sockaddr; sa_family overwritten unless sel is raw)
 * then u16 cap (format buffer size, % 512) and u8 ulen (length for
 * sda_addr_unmap_v4()).  Every buffer handed to core is heap-allocated at
 * exactly the size core is told, so ASan sees any access past it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/un.h>

#include "addr.h"
#include "fuzz_util.h"

struct rec {
	unsigned char *buf;   /* exactly len bytes (at least 1 allocated) */
	size_t len;
	struct sda_addr a;
	int r;
};

static void read_rec(struct fz *f, struct rec *x)
{
	uint8_t sel = fz_u8(f);
	size_t len = fz_u8(f);

	if (len == 0xff)
		len = fz_u16(f) % 1024;
	x->len = len;
	x->buf = calloc(len ? len : 1, 1);
	if (!x->buf)
		abort();
	fz_bytes(f, x->buf, len);
	if (sel % 4 != 3 && len >= sizeof(sa_family_t)) {
		sa_family_t fam = sel % 4 == 0 ? AF_INET : sel % 4 == 1 ? AF_INET6 : AF_UNIX;

		memcpy(x->buf, &fam, sizeof(fam));
	}
}

/* ---- oracle: decoding ---- */
static int ref_decode(const unsigned char *b, size_t len, struct sda_addr *o)
{
	sa_family_t fam;

	memset(o, 0, sizeof(*o));
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	memcpy(&fam, b, sizeof(fam));
	o->family = fam;
	if (fam == AF_INET) {
		struct sockaddr_in in;

		if (len < sizeof(in))
			return -EINVAL;
		memcpy(&in, b, sizeof(in));
		o->port = ntohs(in.sin_port);
		memcpy(o->ip, &in.sin_addr, 4);
		return 0;
	}
	if (fam == AF_INET6) {
		struct sockaddr_in6 in6;

		if (len < sizeof(in6))
			return -EINVAL;
		memcpy(&in6, b, sizeof(in6));
		o->port = ntohs(in6.sin6_port);
		memcpy(o->ip, &in6.sin6_addr, 16);
		o->scope_id = in6.sin6_scope_id;
		return 0;
	}
	if (fam == AF_UNIX) {
		size_t off = offsetof(struct sockaddr_un, sun_path), n;
		const unsigned char *p = b + off;

		if (len > sizeof(struct sockaddr_un))
			len = sizeof(struct sockaddr_un);
		if (len <= off)
			return -EINVAL;             /* unnamed */
		n = len - off;
		if (p[0] == 0) {
			if (n < 2)
				return -EINVAL;     /* autobind */
			o->abstract = 1;
			o->plen = n - 1;
			memcpy(o->path, p + 1, n - 1);
			return 0;
		}
		for (o->plen = 0; o->plen < n && p[o->plen]; o->plen++)
			o->path[o->plen] = (char)p[o->plen];
		return 0;
	}
	return -EAFNOSUPPORT;
}

static int same_addr(const struct sda_addr *a, const struct sda_addr *b)
{
	if (a->family != b->family)
		return 0;
	switch (a->family) {
	case AF_UNIX:
		return a->abstract == b->abstract && a->plen == b->plen &&
		       memcmp(a->path, b->path, a->plen) == 0;
	case AF_INET:
		return a->port == b->port && memcmp(a->ip, b->ip, 4) == 0;
	case AF_INET6:
		/* a scope names an interface only on link-local fe80::/10 (the
		 * kernel ignores it elsewhere) */
		return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0 &&
		       (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80 ? a->scope_id == b->scope_id : 1);
	default:
		return 1;
	}
}

/* ---- oracle: text ---- */
static size_t ref_format(const struct sda_addr *a, char *out)
{
	char ip[INET6_ADDRSTRLEN];
	size_t n = 0;

	switch (a->family) {
	case AF_INET:
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
		return (size_t)sprintf(out, "%s:%u", ip, a->port);
	case AF_INET6:
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		if (a->scope_id)
			return (size_t)sprintf(out, "[%s%%%u]:%u", ip, a->scope_id, a->port);
		return (size_t)sprintf(out, "[%s]:%u", ip, a->port);
	case AF_UNIX:
		if (a->abstract)
			out[n++] = '@';
		for (size_t i = 0; i < a->plen; i++) {
			unsigned char c = (unsigned char)a->path[i];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				out[n++] = (char)c;
			else
				n += (size_t)sprintf(out + n, "\\x%02x", c);
		}
		out[n] = '\0';
		return n;
	default:
		return (size_t)sprintf(out, "family %u", (unsigned)a->family);
	}
}

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static void check_format(const struct sda_addr *a, size_t cap)
{
	char want[1024];
	size_t wl = ref_format(a, want), got;
	char *buf = malloc(cap ? cap : 1);

	if (!buf)
		abort();
	memset(buf, 'Z', cap ? cap : 1);
	got = sda_addr_format(a, buf, cap);
	if (cap == 0) {
		FZ_CHECK("addr-format", got == 0 && buf[0] == 'Z', "cap 0: returned %zu or wrote", got);
	} else {
		size_t k = wl < cap - 1 ? wl : cap - 1;

		FZ_CHECK("addr-format", got == k && buf[k] == '\0' && memcmp(buf, want, k) == 0,
			 "format(cap %zu) = \"%.*s\" (%zu), want \"%.*s\"", cap, (int)got, buf, got,
			 (int)k, want);
	}
	free(buf);
}

static void check_unmap(const struct rec *x, socklen_t len)
{
	struct sockaddr_storage ss, before;
	struct sockaddr_in6 in6;
	socklen_t l = len;
	int r, want = 0;

	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, x->buf, x->len < sizeof(ss) ? x->len : sizeof(ss));
	before = ss;
	memcpy(&in6, &ss, sizeof(in6));
	if (in6.sin6_family == AF_INET6 && len >= sizeof(in6) &&
	    (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)))
		want = 1;
	r = sda_addr_unmap_v4((struct sockaddr *)&ss, &l);
	FZ_CHECK("addr-unmap", r == want, "unmap_v4 returned %d, want %d", r, want);
	if (!want) {
		FZ_CHECK("addr-unmap", l == len && memcmp(&ss, &before, sizeof(ss)) == 0,
			 "unmap_v4 changed an address it did not translate");
		return;
	}
	struct sockaddr_in in;

	memcpy(&in, &ss, sizeof(in));
	FZ_CHECK("addr-unmap",
		 l == sizeof(in) && in.sin_family == AF_INET && in.sin_port == in6.sin6_port &&
			 memcmp(&in.sin_addr, &in6.sin6_addr.s6_addr[12], 4) == 0,
		 "unmap_v4 result is not the IPv4 view of the mapped address");
	FZ_CHECK("addr-unmap",
		 memcmp((char *)&ss + sizeof(in), (char *)&before + sizeof(in),
			sizeof(ss) - sizeof(in)) == 0,
		 "unmap_v4 wrote past a sockaddr_in");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct rec x[3];
	size_t cap;
	uint8_t ulen;

	for (int i = 0; i < 3; i++) {
		struct sda_addr ref;
		int rr;

		read_rec(&f, &x[i]);
		memset(&x[i].a, 0xa5, sizeof(x[i].a));   /* core must fill every field */
		x[i].r = sda_addr_from_sockaddr((struct sockaddr *)x[i].buf, x[i].len, &x[i].a);
		rr = ref_decode(x[i].buf, x[i].len, &ref);
		FZ_CHECK("addr-decode", x[i].r == rr, "from_sockaddr(len %zu, family %d) = %d, want %d",
			 x[i].len, ref.family, x[i].r, rr);
		if (rr == 0) {
			FZ_CHECK("addr-decode", same_addr(&x[i].a, &ref),
				 "from_sockaddr decoded another address than the oracle");
			FZ_CHECK("addr-decode",
				 x[i].a.plen < sizeof(x[i].a.path) &&
					 (x[i].a.abstract || x[i].a.path[x[i].a.plen] == '\0'),
				 "unix path not NUL terminated within path[] (plen %zu)", x[i].a.plen);
		}
	}
	cap = fz_u16(&f) % 512;
	ulen = fz_u8(&f);

	for (int i = 0; i < 3; i++) {
		const struct sda_addr *a = &x[i].a;
		static const unsigned char zero[16];

		(void)sda_type_name(a->family, (int)x[i].len);
		FZ_CHECK("addr-typename", sda_type_name(AF_INET, (int)cap) != NULL, "NULL type name");
		if (x[i].r != 0)
			continue;
		check_format(a, cap);
		check_format(a, 1024);
		FZ_CHECK("addr-wildcard",
			 !!sda_addr_is_wildcard(a) ==
				 ((a->family == AF_INET && !memcmp(a->ip, zero, 4)) ||
				  (a->family == AF_INET6 && !memcmp(a->ip, zero, 16))),
			 "is_wildcard wrong");
		FZ_CHECK("addr-cmp", sda_addr_cmp(a, a) == 0, "cmp(a, a) != 0");
		for (int j = 0; j < 3; j++) {
			const struct sda_addr *b = &x[j].a;
			char fa[1024], fb[1024];
			int c;

			if (x[j].r != 0)
				continue;
			c = sda_addr_cmp(a, b);
			FZ_CHECK("addr-cmp", sign(c) == -sign(sda_addr_cmp(b, a)), "cmp not antisymmetric");
			FZ_CHECK("addr-cmp", (c == 0) == same_addr(a, b),
				 "cmp(a, b) = %d but the addresses are %s", c,
				 same_addr(a, b) ? "equal" : "different");
			ref_format(a, fa);
			ref_format(b, fb);
			/* within a family the text names the address: equal text,
			 * equal address.  (Across families it need not: a relative
			 * unix path can read "1.2.3.4:80", and a path beginning
			 * with '@' reads like the abstract name after it; log lines
			 * name the socket type next to the address.) */
			if (strcmp(fa, fb) == 0 && a->family == b->family && a->abstract == b->abstract)
				FZ_CHECK("addr-cmp", c == 0, "same text \"%s\", cmp %d", fa, c);
			for (int k = 0; k < 3; k++) {
				const struct sda_addr *d = &x[k].a;

				if (x[k].r != 0)
					continue;
				if (c <= 0 && sda_addr_cmp(b, d) <= 0)
					FZ_CHECK("addr-cmp", sda_addr_cmp(a, d) <= 0, "cmp not transitive");
			}
		}
	}
	check_unmap(&x[0], ulen);
	check_unmap(&x[1], (socklen_t)sizeof(struct sockaddr_in6));
	for (int i = 0; i < 3; i++)
		free(x[i].buf);
	return 0;
}
