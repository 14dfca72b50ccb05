/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <strings.h>

static const struct {
	const char *name;
	enum sda_level level;
} levels[] = {
	{ "off", SDA_LOG_OFF },         { "none", SDA_LOG_OFF },
	{ "error", SDA_LOG_ERROR },     { "err", SDA_LOG_ERROR },
	{ "warning", SDA_LOG_WARNING }, { "warn", SDA_LOG_WARNING },
	{ "info", SDA_LOG_INFO },       { "debug", SDA_LOG_DEBUG },
};

int sda_parse_level(const char *s, enum sda_level *lvl)
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
