/* SPDX-License-Identifier: MIT */
/* config: SDADOPT_* settings. */
#ifndef SDA_CONFIG_H
#define SDA_CONFIG_H

enum sda_level {
	SDA_LOG_OFF = 0,
	SDA_LOG_ERROR = 3,     /* same numbers as syslog priorities */
	SDA_LOG_WARNING = 4,
	SDA_LOG_INFO = 6,
	SDA_LOG_DEBUG = 7,
};
#define SDA_LOG_DEFAULT SDA_LOG_INFO

/* Parse SDADOPT_LOG: "off"/"none", "error"/"err", "warning"/"warn",
 * "info", "debug", or a syslog digit 0-7.  NULL or "" -> default.
 * Returns 0 and sets *lvl, or -EINVAL (and *lvl = default). */
int sda_parse_level(const char *s, enum sda_level *lvl);
const char *sda_level_name(enum sda_level l);

#endif
