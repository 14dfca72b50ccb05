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

/* SDADOPT_MAP: "ADDR=NAME[,ADDR=NAME...]": the program's bind() of ADDR gets
 * the inherited socket named NAME (FileDescriptorName=).  ADDR is
 * IPv4:PORT, [IPv6]:PORT, /absolute/path or @abstract.  Entries are split on
 * ',' and at the last '='. */
#include "addr.h"

#define SDA_MAP_MAX 256
#define SDA_MAP_CANDIDATES 4

struct sda_map_entry {
	struct sda_addr addr;
	const char *name;                  /* points into the map's buffer */
	int cand[SDA_MAP_CANDIDATES];      /* the first registry entries so named,
					    * -1 = none (a cache: more may follow) */
};

struct sda_map {
	size_t n;
	struct sda_map_entry *e;           /* sorted by addr */
	char *buf;
};

struct sda_map_error {
	const char *entry;                 /* points into the input */
	size_t len;
	const char *why;                   /* static text */
};

/* Parse s into map.  Malformed entries are left out; each is described in
 * errs (up to cap; *nerrs counts them all).  Returns 0 or -ENOMEM.
 * sda_map_free() is safe on a zeroed map. */
int sda_map_parse(const char *s, struct sda_map *map, struct sda_map_error *errs, size_t cap,
		  size_t *nerrs);
void sda_map_free(struct sda_map *map);

/* Parse one address as the map writes it: 0 or -EINVAL. */
int sda_addr_parse(const char *s, size_t len, struct sda_addr *out);

/* SDADOPT_MATCH: "exact" (design order, the default) or "port" (also any
 * inherited socket of the same type and port, whatever its address). */
enum sda_match_policy { SDA_POLICY_EXACT = 0, SDA_POLICY_PORT = 1 };
int sda_parse_match_policy(const char *s, enum sda_match_policy *p);

/* SDADOPT_STRICT: "0"/"1", "no"/"yes", "false"/"true", "off"/"on". */
int sda_parse_bool(const char *s, int *b);

#endif
