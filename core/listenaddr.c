/* SPDX-License-Identifier: MIT */
#include "listenaddr.h"

#include <errno.h>
#include <string.h>

#include "config.h"

static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int sda_listen_parse(const char *s, struct sda_listen_addr *out)
{
	size_t len = s ? strlen(s) : 0;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return -EINVAL;
	if (all_digits(s, len)) {
		unsigned v = 0;

		if (len > 5)
			return -EINVAL;
		for (size_t i = 0; i < len; i++)
			v = v * 10 + (unsigned)(s[i] - '0');
		if (v == 0 || v > 65535)
			return -EINVAL;
		out->bare_port = 1;
		out->addr.family = AF_INET6;
		out->addr.port = (uint16_t)v;
		return 0;
	}
	if (s[0] == '/' || s[0] == '@') {
		if (len > 107)
			return -EINVAL;
		return sda_addr_parse(s, len, &out->addr);
	}
	if (s[0] == '[') {
		const char *pct = memchr(s, '%', len), *end = memchr(s, ']', len);
		char buf[64];
		size_t iplen, slen;
		const char *scope;

		if (!pct || !end || pct > end)
			return sda_addr_parse(s, len, &out->addr);
		/* [IP%SCOPE]:PORT -> [IP]:PORT, and the scope */
		iplen = (size_t)(pct - s);
		scope = pct + 1;
		slen = (size_t)(end - scope);
		if (slen == 0 || slen >= IF_NAMESIZE || iplen + (len - (size_t)(end - s)) >= sizeof(buf))
			return -EINVAL;
		for (size_t i = 0; i < slen; i++) {
			char c = scope[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
				return -EINVAL;
		}
		memcpy(buf, s, iplen);
		memcpy(buf + iplen, end, len - (size_t)(end - s));
		buf[iplen + len - (size_t)(end - s)] = '\0';
		if (sda_addr_parse(buf, strlen(buf), &out->addr) < 0)
			return -EINVAL;
		if (all_digits(scope, slen)) {
			uint32_t v = 0;

			for (size_t i = 0; i < slen; i++) {
				if (v > 429496729u)
					return -EINVAL;
				v = v * 10 + (uint32_t)(scope[i] - '0');
			}
			out->addr.scope_id = v;
		} else {
			memcpy(out->ifname, scope, slen);
			out->ifname[slen] = '\0';
		}
		return 0;
	}
	return sda_addr_parse(s, len, &out->addr);
}

int sda_fdname_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++)
		if (*p < 0x20 || *p > 0x7e || *p == ':')
			return 0;
	return n >= 1 && n <= 255;
}
