/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "startcode.h"

#include <errno.h>
#include <strings.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const struct {
	const char *name;
	enum sda_level level;
} levels[] = {
	{ "off", SDA_LOG_OFF },         { "none", SDA_LOG_OFF },
	{ "error", SDA_LOG_ERROR },     { "err", SDA_LOG_ERROR },
	{ "warning", SDA_LOG_WARNING }, { "warn", SDA_LOG_WARNING },
	{ "info", SDA_LOG_INFO },       { "debug", SDA_LOG_DEBUG },
};

SDA_STARTUP int sda_parse_level(const char *s, enum sda_level *lvl)
{
	*lvl = SDA_LOG_DEFAULT;
	if (!s || !*s)
		return 0;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0') {
		/* a syslog priority: show messages at or above it (0-2: none of ours) */
		*lvl = (enum sda_level)(s[0] - '0');
		return 0;
	}
	for (unsigned i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(s, levels[i].name) == 0) {
			*lvl = levels[i].level;
			return 0;
		}
	return -EINVAL;
}

const char *sda_level_name(enum sda_level l)
{
	switch (l) {
	case SDA_LOG_OFF: return "off";
	case SDA_LOG_ERROR: return "error";
	case SDA_LOG_WARNING: return "warning";
	case SDA_LOG_INFO: return "info";
	case SDA_LOG_DEBUG: return "debug";
	}
	return "info";
}

SDA_STARTUP int sda_parse_bool(const char *s, int *b)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	*b = 0;
	if (!s || !*s)
		return 0;
	for (unsigned i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

SDA_STARTUP int sda_parse_match_policy(const char *s, enum sda_match_policy *p)
{
	*p = SDA_POLICY_EXACT;
	if (!s || !*s || strcasecmp(s, "exact") == 0)
		return 0;
	if (strcasecmp(s, "port") == 0) {
		*p = SDA_POLICY_PORT;
		return 0;
	}
	return -EINVAL;
}

static int parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int sda_addr_parse(const char *s, size_t len, struct sda_addr *out)
{
	char ip[INET6_ADDRSTRLEN];
	const char *colon;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return -EINVAL;
	if (s[0] == '/' || s[0] == '@') {
		int abs = s[0] == '@';
		size_t n = len - (size_t)abs;

		if (n == 0 || n > (abs ? 107u : 108u) || memchr(s, '\0', len))
			return -EINVAL;
		out->family = AF_UNIX;
		out->abstract = abs;
		out->plen = n;
		memcpy(out->path, s + abs, n);
		return 0;
	}
	if (s[0] == '[') {
		const char *end = memchr(s, ']', len);
		size_t n;

		if (!end || (size_t)(end - s) + 2 > len || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - s - 1);
		if (n == 0 || n >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, s + 1, n);
		ip[n] = '\0';
		if (inet_pton(AF_INET6, ip, out->ip) != 1)
			return -EINVAL;
		out->family = AF_INET6;
		return parse_port(end + 2, len - (size_t)(end + 2 - s), &out->port);
	}
	colon = memchr(s, ':', len);
	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	if (inet_pton(AF_INET, ip, out->ip) != 1)
		return -EINVAL;
	out->family = AF_INET;
	return parse_port(colon + 1, len - (size_t)(colon + 1 - s), &out->port);
}

void sda_map_free(struct sda_map *map)
{
	free(map->e);
	free(map->buf);
	memset(map, 0, sizeof(*map));
}

static void map_error(struct sda_map_error *errs, size_t cap, size_t *nerrs, const char *entry,
		      size_t len, const char *why)
{
	if (*nerrs < cap) {
		errs[*nerrs].entry = entry;
		errs[*nerrs].len = len;
		errs[*nerrs].why = why;
	}
	(*nerrs)++;
}

int sda_map_parse(const char *s, struct sda_map *map, struct sda_map_error *errs, size_t cap,
		  size_t *nerrs)
{
	size_t n = 1, slen;

	memset(map, 0, sizeof(*map));
	*nerrs = 0;
	if (!s || !*s)
		return 0;
	slen = strlen(s);
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (n > SDA_MAP_MAX) {
		map_error(errs, cap, nerrs, s, slen, "more than 256 entries");
		return 0;
	}
	map->e = calloc(n, sizeof(*map->e));
	map->buf = malloc(slen + 1);
	if (!map->e || !map->buf) {
		sda_map_free(map);
		return -ENOMEM;
	}
	memcpy(map->buf, s, slen + 1);

	for (const char *p = s; p <= s + slen;) {
		const char *end = strchr(p, ',');
		const char *eq = NULL;
		size_t len, nlen;
		struct sda_map_entry *e = &map->e[map->n];

		if (!end)
			end = s + slen;
		len = (size_t)(end - p);
		for (const char *q = p; q < end; q++)
			if (*q == '=')
				eq = q;
		if (len == 0)
			map_error(errs, cap, nerrs, p, len, "empty entry");
		else if (!eq)
			map_error(errs, cap, nerrs, p, len, "no '=': write ADDR=NAME");
		else if ((nlen = (size_t)(end - eq - 1)) == 0 || nlen > 255)
			map_error(errs, cap, nerrs, p, len, "the name after '=' is empty or longer than 255");
		else if (sda_addr_parse(p, (size_t)(eq - p), &e->addr) < 0)
			map_error(errs, cap, nerrs, p, len,
				  "not an address (IPv4:PORT, [IPv6]:PORT, /path or @abstract, port 1-65535)");
		else {
			size_t off = (size_t)(eq + 1 - s);

			map->buf[off + nlen] = '\0';
			e->name = map->buf + off;
			for (int k = 0; k < SDA_MAP_CANDIDATES; k++)
				e->cand[k] = -1;
			for (size_t k = 0; k < map->n; k++)
				if (sda_addr_cmp(&map->e[k].addr, &e->addr) == 0) {
					map_error(errs, cap, nerrs, p, len, "address mapped twice");
					e = NULL;
					break;
				}
			if (e)
				map->n++;
		}
		p = end + 1;
	}
	/* sort by address: insertion sort, n <= 256 */
	for (size_t i = 1; i < map->n; i++) {
		struct sda_map_entry t = map->e[i];
		size_t j = i;

		for (; j > 0 && sda_addr_cmp(&map->e[j - 1].addr, &t.addr) > 0; j--)
			map->e[j] = map->e[j - 1];
		map->e[j] = t;
	}
	return 0;
}
