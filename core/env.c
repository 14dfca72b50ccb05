/* SPDX-License-Identifier: MIT */
#include "env.h"
#include "startcode.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

SDA_STARTUP static int parse_digits_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

int sda_parse_u64(const char *s, uint64_t *ret)
{
	return parse_digits_u64(s, ret);
}

int sda_parse_int(const char *s, int *ret)
{
	uint64_t v;
	int neg = 0, r;

	if (s && *s == '-') {
		neg = 1;
		s++;
	}
	r = parse_digits_u64(s, &v);
	if (r < 0)
		return r;
	if (neg ? v > (uint64_t)INT_MAX + 1 : v > (uint64_t)INT_MAX)
		return -ERANGE;
	*ret = neg ? (int)(-(int64_t)v) : (int)v;
	return 0;
}

int sda_parse_pid(const char *s, pid_t *ret)
{
	uint64_t v;
	int r = parse_digits_u64(s, &v);

	if (r < 0)
		return r;
	if (v == 0 || v > INT_MAX)
		return -ERANGE;
	*ret = (pid_t)v;
	return 0;
}

enum sda_name_kind sda_name_kind(const char *name)
{
	if (!name)
		return SDA_NAME_UNKNOWN;
	if (strcmp(name, "unknown") == 0)
		return SDA_NAME_UNKNOWN;
	if (strcmp(name, "stored") == 0)
		return SDA_NAME_STORED;
	if (strcmp(name, "connection") == 0)
		return SDA_NAME_CONNECTION;
	return SDA_NAME_PLAIN;
}

void sda_env_free(struct sda_env *e)
{
	if (!e)
		return;
	if (!e->not_heap) {
		free(e->names);
		free(e->names_buf);
	}
	e->names = NULL;
	e->names_buf = NULL;
	e->n_fds = 0;
}

static char unknown_name[] = "unknown";

int sda_env_parse(const struct sda_env_input *in, struct sda_env *out)
{
	return sda_env_parse_with(in, out, NULL);
}

SDA_STARTUP int sda_env_parse_with(const struct sda_env_input *in, struct sda_env *out, sda_zalloc_fn zalloc)
{
	pid_t pid;
	int n;
	size_t n_names = 0;

	memset(out, 0, sizeof(*out));

	if (!in->listen_pid) {
		out->why = "LISTEN_PID not set";
		return 0;
	}
	if (sda_parse_pid(in->listen_pid, &pid) < 0) {
		out->why = "LISTEN_PID is not a valid pid";
		return -EINVAL;
	}
	if (pid != in->self_pid) {
		out->why = "LISTEN_PID names another process";
		return 0;
	}
	if (in->listen_pidfdid) {
		uint64_t id;

		if (sda_parse_u64(in->listen_pidfdid, &id) < 0) {
			out->why = "LISTEN_PIDFDID is not an unsigned 64-bit number";
			return -EINVAL;
		}
		if (in->have_self_pidfdid && id != in->self_pidfdid) {
			out->why = "LISTEN_PIDFDID names another process";
			return 0;
		}
	}
	out->for_us = 1;
	if (!in->listen_fds) {
		out->why = "LISTEN_FDS not set";
		return 0;
	}
	if (sda_parse_int(in->listen_fds, &n) < 0) {
		out->why = "LISTEN_FDS is not an integer";
		return -EINVAL;
	}
	if (n <= 0 || n > INT_MAX - SDA_LISTEN_FDS_START) {
		out->why = "LISTEN_FDS is not a positive number of fds";
		return -EINVAL;
	}
	if (in->max_fds > 0 && (long)n + SDA_LISTEN_FDS_START > in->max_fds) {
		out->why = "LISTEN_FDS is more fds than this process may have open (RLIMIT_NOFILE)";
		return -EINVAL;
	}

	if (in->listen_fdnames) {
		const char *p;

		n_names = 1;
		for (p = in->listen_fdnames; *p; p++)
			if (*p == ':')
				n_names++;
		if (n_names != (size_t)n) {
			out->why = "LISTEN_FDNAMES does not have one name per fd in LISTEN_FDS";
			return -EINVAL;
		}
	}

	out->not_heap = zalloc != NULL;
	out->names = zalloc ? zalloc((size_t)n * sizeof(char *)) : calloc((size_t)n, sizeof(char *));
	if (!out->names) {
		out->why = "out of memory";
		return -ENOMEM;
	}
	if (in->listen_fdnames) {
		size_t len = strlen(in->listen_fdnames) + 1, i = 0;
		char *s = zalloc ? zalloc(len) : malloc(len);

		if (!s) {
			sda_env_free(out);
			out->why = "out of memory";
			return -ENOMEM;
		}
		memcpy(s, in->listen_fdnames, len);
		out->names_buf = s;
		for (;;) {
			char *c = strchr(s, ':');

			out->names[i++] = s;
			if (!c)
				break;
			*c = '\0';
			s = c + 1;
		}
	} else {
		for (int i = 0; i < n; i++)
			out->names[i] = unknown_name;
	}
	out->n_fds = n;
	out->why = NULL;
	out->for_us = 1;
	return n;
}
