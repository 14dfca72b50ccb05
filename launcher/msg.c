/* SPDX-License-Identifier: MIT */
/* msg: the launcher's one-line messages on stderr, and small helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launcher.h"

const char *sda_me = "sdadopt";

static void vsay(const char *kind, const char *fmt, va_list ap)
{
	char buf[8192];
	int n;

	n = snprintf(buf, sizeof(buf), "%s: %s", sda_me, kind);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", buf);
	fflush(stderr);
}

#define SAYER(fn, kind)                       \
	void fn(const char *fmt, ...)         \
	{                                     \
		va_list ap;                   \
		va_start(ap, fmt);            \
		vsay(kind, fmt, ap);          \
		va_end(ap);                   \
	}
SAYER(ln_warn, "warning: ")
SAYER(ln_err, "error: ")
SAYER(ln_note, "")

void ln_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void ln_die(int st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("error: ", fmt, ap);
	va_end(ap);
	exit(st);
}

void ln_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", sda_me);
	exit(EX_USAGE_);
}

void *ln_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		ln_die(EX_OSERR_, "out of memory");
	return q;
}

char *ln_strdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		ln_die(EX_OSERR_, "out of memory");
	return d;
}

char *ln_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		ln_die(EX_OSERR_, "out of memory");
	return s;
}

char *ln_join(char *const *v, size_t n, const char *sep)
{
	size_t len = 1, k = strlen(sep);
	char *s, *e;

	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + k;
	s = e = ln_xrealloc(NULL, len);
	*s = '\0';
	for (size_t i = 0; i < n; i++)
		e = stpcpy(i ? stpcpy(e, sep) : e, v[i]);
	return s;
}
