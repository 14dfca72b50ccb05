/* SPDX-License-Identifier: MIT */
/* preload: which libsdadopt.so to preload, and the LD_PRELOAD that has it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"

#ifndef SDADOPT_INSTALLED_SHIM
#define SDADOPT_INSTALLED_SHIM "/usr/lib/sdadopt/libsdadopt.so"
#endif
#ifndef SDADOPT_SHIM_FROM_BINDIR
#define SDADOPT_SHIM_FROM_BINDIR "../lib/sdadopt/libsdadopt.so"
#endif

static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return ln_strdup(buf);
}

/* [[ -f P && -r P ]] */
static int is_regular_readable(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

char *ln_find_shim(const struct opts *o)
{
	const char *env = getenv("SDADOPT_SHIM");
	char *c = NULL, *dir = self_dir(), *canon;

	if (o->shim)
		c = ln_strdup(o->shim);
	else if (env && *env)
		c = ln_strdup(env);
	else {
		/* installed: the shim in the library directory of the prefix this
		 * program is in (also in a DESTDIR or an unpacked package), then
		 * the build tree's (BUILD/launcher/sdadopt -> BUILD/shim/), then
		 * the path it was installed to */
		const char *cands[3];
		char *owned[2] = {NULL, NULL};

		if (dir) {
			owned[0] = ln_asprintf("%s/%s", dir, SDADOPT_SHIM_FROM_BINDIR);
			owned[1] = ln_asprintf("%s/../shim/libsdadopt.so", dir);
		}
		cands[0] = owned[0];
		cands[1] = owned[1];
		cands[2] = SDADOPT_INSTALLED_SHIM;
		for (int i = 0; i < 3 && !c; i++)
			if (cands[i] && is_regular_readable(cands[i]))
				c = ln_strdup(cands[i]);
		if (!c) {
			ln_err("cannot find the shim (looked for %s%s%s, %s); use --shim PATH or "
			       "SDADOPT_SHIM",
			       owned[0] ? owned[0] : "", owned[0] ? ", " : "", owned[1] ? owned[1] : "",
			       SDADOPT_INSTALLED_SHIM);
			exit(EX_UNAVAILABLE_);
		}
		free(owned[0]);
		free(owned[1]);
	}
	free(dir);
	if (!is_regular_readable(c)) {
		if (o->shim)
			ln_die(EX_UNAVAILABLE_, "--shim %s: no such readable file", c);
		ln_die(EX_UNAVAILABLE_, "SDADOPT_SHIM=%s: no such readable file", c);
	}
	/* absolute and canonical: the program may chdir before it execs others */
	canon = realpath(c, NULL);
	if (canon) {
		free(c);
		return canon;
	}
	return c;
}

static int is_sanitizer(const char *base)
{
	return !strncmp(base, "libasan.so", 10) || !strncmp(base, "libtsan.so", 10) ||
	       !strncmp(base, "libhwasan.so", 12) ||
	       (!strncmp(base, "libclang_rt.asan", 16) && strstr(base, ".so")) ||
	       (!strncmp(base, "libclang_rt.tsan", 16) && strstr(base, ".so"));
}

/* The shim first (after sanitizer runtimes, which must come first), the rest
 * as it was, no second copy of any libsdadopt.so. */
char *ln_build_preload(const char *old, const char *shim)
{
	size_t cap = (old ? strlen(old) : 0) + strlen(shim) + 4;
	char *first = ln_xrealloc(NULL, cap), *rest = ln_xrealloc(NULL, cap), *out;
	char *copy = ln_strdup(old ? old : ""), *save = NULL;

	first[0] = rest[0] = '\0';
	for (char *e = strtok_r(copy, " :", &save); e; e = strtok_r(NULL, " :", &save)) {
		const char *base = strrchr(e, '/') ? strrchr(e, '/') + 1 : e;

		if (!strcmp(base, "libsdadopt.so") || !strncmp(base, "libsdadopt.so.", 14))
			continue;
		if (is_sanitizer(base) && !rest[0]) {
			if (first[0])
				strcat(first, ":");
			strcat(first, e);
		} else {
			if (rest[0])
				strcat(rest, ":");
			strcat(rest, e);
		}
	}
	out = ln_asprintf("%s%s%s%s%s", first, first[0] ? ":" : "", shim, rest[0] ? ":" : "", rest);
	free(first);
	free(rest);
	free(copy);
	return out;
}
