/* SPDX-License-Identifier: MIT */
/* Helpers shared by the fuzz targets: a byte reader over the input and the
 * failure report.  Every target checks core against an oracle written here,
 * independently of core's own code, and abort()s on a disagreement so that
 * libFuzzer (or the replay driver) records the input. */
#ifndef SDA_FUZZ_UTIL_H
#define SDA_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t v = fz_u8(f);

	return (uint16_t)(v | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t v = fz_u16(f);

	return v | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t v = fz_u32(f);

	return v | (uint64_t)fz_u32(f) << 32;
}

/* Copy up to want bytes (fewer at the end of the input); returns the count. */
static inline size_t fz_bytes(struct fz *f, void *out, size_t want)
{
	size_t k = want < f->n ? want : f->n;

	memcpy(out, f->p, k);
	f->p += k;
	f->n -= k;
	return k;
}

/* The next string up to a NUL byte (or the end), as a malloc'ed C string of
 * exactly its length + 1, so that ASan sees any read past its end.  Returns
 * NULL at the end of the input. */
static inline char *fz_str(struct fz *f)
{
	size_t k = 0;
	char *s;

	if (!f->n)
		return NULL;
	while (k < f->n && f->p[k])
		k++;
	s = malloc(k + 1);
	if (!s)
		abort();
	memcpy(s, f->p, k);
	s[k] = '\0';
	f->p += k < f->n ? k + 1 : k;
	f->n -= k < f->n ? k + 1 : k;
	return s;
}

/* Checks that are known to fail (findings reported, not yet fixed) can be
 * switched off for long fuzzing runs, so that they do not hide new bugs:
 * SDA_FUZZ_IGNORE=check1,check2.  Replays always run every check. */
static inline int fz_check_on(const char *id)
{
	const char *ig = getenv("SDA_FUZZ_IGNORE");
	size_t n = strlen(id);

	for (const char *p = ig; p && *p;) {
		const char *c = strchr(p, ',');
		size_t k = c ? (size_t)(c - p) : strlen(p);

		if (k == n && memcmp(p, id, n) == 0)
			return 0;
		p += k + (c ? 1 : 0);
	}
	return 1;
}

__attribute__((format(printf, 2, 3), noreturn)) static inline void fz_fail(const char *check,
									    const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FUZZ CHECK FAILED [%s]: ", check);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Fail `check` with a message when cond is false (and the check is on). */
#define FZ_CHECK(check, cond, ...)                                             \
	do {                                                                   \
		if (!(cond) && fz_check_on(check))                             \
			fz_fail(check, __VA_ARGS__);                           \
	} while (0)

#endif
