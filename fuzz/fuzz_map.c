/* SPDX-License-Identifier: MIT */
/* Fuzz target: SDADOPT_MAP parsing (sda_map_parse, sda_addr_parse) against
 * an oracle of config.h's grammar:
 *
 *   MAP   = ENTRY *( "," ENTRY ), at most 256 entries (else nothing, 1 error)
 *   ENTRY = ADDR "=" NAME, split at the last '='; NAME 1..255 bytes
 *   ADDR  = IPv4 ":" PORT | "[" IPv6 "]" ":" PORT | "/" path | "@" abstract
 *   PORT  = 1..5 digits, 1..65535; a path is 1..108 bytes (abstract 1..107)
 *   A malformed entry, or an address mapped a second time, is left out and
 *   counted in *nerrs; the map comes out sorted by address.
 *
 * Input: u8 cap (errors array size, % 9), then the value (cut at a NUL). */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "fuzz_util.h"

static int ref_port(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int ref_addr(const char *s, size_t len, struct sda_addr *a)
{
	char ip[64];
	const char *c;

	memset(a, 0, sizeof(*a));
	if (len == 0)
		return -1;
	if (s[0] == '/' || s[0] == '@') {
		int abs = s[0] == '@';
		size_t n = len - (size_t)abs;

		if (n < 1 || n > (abs ? 107u : 108u) || memchr(s, '\0', len))
			return -1;
		a->family = AF_UNIX;
		a->abstract = abs;
		a->plen = n;
		memcpy(a->path, s + abs, n);
		return 0;
	}
	if (s[0] == '[') {
		const char *e = memchr(s, ']', len);

		if (!e || e + 1 >= s + len || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(ip))
			return -1;
		memcpy(ip, s + 1, (size_t)(e - s - 1));
		ip[e - s - 1] = '\0';
		if (inet_pton(AF_INET6, ip, a->ip) != 1)
			return -1;
		a->family = AF_INET6;
		return ref_port(e + 2, len - (size_t)(e + 2 - s), &a->port);
	}
	c = memchr(s, ':', len);
	if (!c || (size_t)(c - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(c - s));
	ip[c - s] = '\0';
	if (inet_pton(AF_INET, ip, a->ip) != 1)
		return -1;
	a->family = AF_INET;
	return ref_port(c + 1, len - (size_t)(c + 1 - s), &a->port);
}

static int same_addr(const struct sda_addr *a, const struct sda_addr *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == AF_UNIX)
		return a->abstract == b->abstract && a->plen == b->plen &&
		       memcmp(a->path, b->path, a->plen) == 0;
	return a->port == b->port && memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16) == 0 &&
	       a->scope_id == b->scope_id;
}

static void check_addr(const char *s, size_t len)
{
	struct sda_addr a, ref;
	char *copy = malloc(len ? len : 1);          /* exactly len: no NUL after */
	int r, rr;

	if (!copy)
		abort();
	memcpy(copy, s, len);
	r = sda_addr_parse(copy, len, &a);
	rr = ref_addr(s, len, &ref);
	FZ_CHECK("map-addr", (r == 0) == (rr == 0), "sda_addr_parse(\"%.*s\") = %d, oracle %s",
		 (int)len, s, r, rr == 0 ? "valid" : "invalid");
	if (r == 0 && rr == 0) {
		char txt[512];
		struct sda_addr back;
		size_t tl;
		int printable = 1;

		FZ_CHECK("map-addr", same_addr(&a, &ref), "sda_addr_parse(\"%.*s\"): another address",
			 (int)len, s);
		for (size_t i = 0; i < a.plen && a.family == AF_UNIX; i++)
			printable &= a.path[i] >= 0x20 && a.path[i] < 0x7f && a.path[i] != '\\';
		tl = sda_addr_format(&a, txt, sizeof(txt));
		if (printable)
			FZ_CHECK("map-roundtrip",
				 sda_addr_parse(txt, tl, &back) == 0 && sda_addr_cmp(&a, &back) == 0,
				 "\"%.*s\" formats as \"%s\", which does not parse back", (int)len, s, txt);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	size_t cap = fz_u8(&f) % 9, nerrs = 12345, fields = 1, want_n = 0, want_err = 0;
	char *s = fz_str(&f);
	struct sda_map_error *errs = malloc((cap ? cap : 1) * sizeof(*errs));
	struct sda_addr acc[300];
	const char *accname[300];
	size_t accnlen[300];
	struct sda_map map;
	int r;

	if (!s)
		s = strdup("");
	if (!s || !errs)
		abort();
	for (const char *p = s; *p; p++)
		fields += *p == ',';

	/* oracle */
	if (*s && fields > SDA_MAP_MAX) {
		want_err = 1;
	} else if (*s) {
		for (const char *p = s;;) {
			const char *end = strchr(p, ','), *eq = NULL;

			if (!end)
				end = p + strlen(p);
			for (const char *q = p; q < end; q++)
				if (*q == '=')
					eq = q;
			if (end > p)
				check_addr(p, (size_t)((eq ? eq : end) - p));
			if (end == p || !eq || end - eq - 1 < 1 || end - eq - 1 > 255 ||
			    ref_addr(p, (size_t)(eq - p), &acc[want_n]) < 0) {
				want_err++;
			} else {
				int dup = 0;

				for (size_t k = 0; k < want_n; k++)
					dup |= same_addr(&acc[k], &acc[want_n]);
				if (dup) {
					want_err++;
				} else {
					accname[want_n] = eq + 1;
					accnlen[want_n] = (size_t)(end - eq - 1);
					want_n++;
				}
			}
			if (!*end)
				break;
			p = end + 1;
		}
	}

	r = sda_map_parse(s, &map, errs, cap, &nerrs);
	FZ_CHECK("map-parse", r == 0, "sda_map_parse returned %d", r);
	FZ_CHECK("map-parse", map.n == want_n && nerrs == want_err,
		 "sda_map_parse(\"%s\"): %zu entries, %zu errors; oracle %zu, %zu", s, map.n, nerrs,
		 want_n, want_err);
	for (size_t i = 0; i < nerrs && i < cap; i++)
		FZ_CHECK("map-errors",
			 errs[i].why && errs[i].entry >= s && errs[i].entry + errs[i].len <= s + strlen(s),
			 "error %zu does not point into the input", i);
	for (size_t i = 0; i < map.n; i++) {
		const struct sda_map_entry *e = &map.e[i];
		size_t k;

		if (i > 0)
			FZ_CHECK("map-sorted", sda_addr_cmp(&map.e[i - 1].addr, &e->addr) < 0,
				 "map not strictly sorted at %zu", i);
		for (k = 0; k < want_n && !same_addr(&acc[k], &e->addr); k++)
			;
		FZ_CHECK("map-entry", k < want_n, "entry %zu: an address the oracle did not accept", i);
		if (k < want_n)
			FZ_CHECK("map-entry",
				 strlen(e->name) == accnlen[k] &&
					 memcmp(e->name, accname[k], accnlen[k]) == 0,
				 "entry %zu: name \"%s\", oracle \"%.*s\"", i, e->name, (int)accnlen[k],
				 accname[k]);
		for (int c = 0; c < SDA_MAP_CANDIDATES; c++)
			FZ_CHECK("map-entry", e->cand[c] == -1, "entry %zu: candidate set before indexing", i);
	}
	sda_map_free(&map);
	sda_map_free(&map);
	free(errs);
	free(s);
	return 0;
}
