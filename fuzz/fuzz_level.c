/* SPDX-License-Identifier: MIT */
/* Fuzz target: the scalar SDADOPT_* parsers (config.h) against an oracle:
 *
 *   sda_parse_level: NULL or "" -> default; one digit 0-7 -> that priority;
 *     off/none, error/err, warning/warn, info, debug in any case -> the
 *     level; anything else -> -EINVAL with *lvl = default.
 *   sda_level_name: never NULL; names parse back to their level.
 *   sda_parse_bool: NULL/"" -> 0; 1/yes/true/on, 0/no/false/off in any case;
 *     else -EINVAL with *b = 0.
 *   sda_parse_match_policy: NULL/""/exact -> exact, port -> port (any case);
 *     else -EINVAL with exact.
 *
 * Input: the bytes are the value (cut at the first NUL, as getenv would). */
#include <errno.h>
#include <strings.h>

#include "config.h"
#include "fuzz_util.h"

static int ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

static int ref_level(const char *s, int *lvl)
{
	static const struct {
		const char *n;
		int l;
	} t[] = { { "off", 0 },     { "none", 0 }, { "error", 3 }, { "err", 3 },
		  { "warning", 4 }, { "warn", 4 }, { "info", 6 },  { "debug", 7 } };

	*lvl = SDA_LOG_DEFAULT;
	if (!s || !*s)
		return 0;
	if (s[0] >= '0' && s[0] <= '7' && !s[1]) {
		*lvl = s[0] - '0';
		return 0;
	}
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ieq(s, t[i].n)) {
			*lvl = t[i].l;
			return 0;
		}
	return -EINVAL;
}

static void check(const char *s)
{
	enum sda_level lvl = (enum sda_level)99;
	enum sda_match_policy pol = (enum sda_match_policy)99;
	int want, r, b = 99, wb;
	const char *nm;

	/* level */
	r = sda_parse_level(s, &lvl);
	wb = ref_level(s, &want);
	FZ_CHECK("level-parse", r == wb && (int)lvl == want, "sda_parse_level(\"%s\") = %d, level %d; want %d, %d",
		 s ? s : "(null)", r, (int)lvl, wb, want);
	nm = sda_level_name(lvl);
	FZ_CHECK("level-name", nm && *nm, "sda_level_name(%d) is empty", (int)lvl);
	if (r == 0 && (lvl == SDA_LOG_OFF || lvl == SDA_LOG_ERROR || lvl == SDA_LOG_WARNING ||
		       lvl == SDA_LOG_INFO || lvl == SDA_LOG_DEBUG)) {
		enum sda_level back;

		FZ_CHECK("level-name", sda_parse_level(nm, &back) == 0 && back == lvl,
			 "level %d is named \"%s\", which does not parse back", (int)lvl, nm);
	}

	/* bool */
	r = sda_parse_bool(s, &b);
	if (!s || !*s)
		wb = 0, want = 0;
	else if (ieq(s, "1") || ieq(s, "yes") || ieq(s, "true") || ieq(s, "on"))
		wb = 0, want = 1;
	else if (ieq(s, "0") || ieq(s, "no") || ieq(s, "false") || ieq(s, "off"))
		wb = 0, want = 0;
	else
		wb = -EINVAL, want = 0;
	FZ_CHECK("level-bool", r == wb && b == want, "sda_parse_bool(\"%s\") = %d, %d; want %d, %d",
		 s ? s : "(null)", r, b, wb, want);

	/* match policy */
	r = sda_parse_match_policy(s, &pol);
	if (!s || !*s || ieq(s, "exact"))
		wb = 0, want = SDA_POLICY_EXACT;
	else if (ieq(s, "port"))
		wb = 0, want = SDA_POLICY_PORT;
	else
		wb = -EINVAL, want = SDA_POLICY_EXACT;
	FZ_CHECK("level-policy", r == wb && (int)pol == want,
		 "sda_parse_match_policy(\"%s\") = %d, %d; want %d, %d", s ? s : "(null)", r,
		 (int)pol, wb, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	char *s = fz_str(&f);

	check(s ? s : "");
	if (size && data[0] == 0xff)
		check(NULL);
	for (int l = -1; l < 10; l++)
		FZ_CHECK("level-name", sda_level_name((enum sda_level)l) != NULL, "NULL name");
	free(s);
	return 0;
}
