/* SPDX-License-Identifier: MIT */
/* env: parse the LISTEN_* variables exactly as sd_listen_fds_with_names(). */
#ifndef SDA_ENV_H
#define SDA_ENV_H

#include <stdint.h>
#include <sys/types.h>

#include "alloc.h"

#define SDA_LISTEN_FDS_START 3

/* Result of parsing. names[] point into a private copy of LISTEN_FDNAMES
 * (or to the static string "unknown"); free with sda_env_free(). */
struct sda_env {
	int n_fds;            /* > 0 when the sockets are for us */
	char **names;         /* n_fds entries, never NULL when n_fds > 0 */
	char *names_buf;      /* storage behind names[] */
	const char *why;      /* static text: why the result is inert/error */
	int for_us;           /* LISTEN_PID (and LISTEN_PIDFDID) name this process:
			       * the variables are ours to remove, valid or not */
	int not_heap;         /* names came from a caller's zalloc: not freed */
};

/* The raw inputs: each string may be NULL (variable absent). */
struct sda_env_input {
	const char *listen_pid;
	const char *listen_pidfdid;
	const char *listen_fds;
	const char *listen_fdnames;
	pid_t self_pid;
	uint64_t self_pidfdid;     /* inode id of our own pidfd */
	int have_self_pidfdid;     /* 0 when the kernel cannot tell (no pidfs) */
	long max_fds;              /* upper bound for LISTEN_FDS (RLIMIT_NOFILE) */
};

/* Returns:
 *   > 0      number of fds, out filled (names included);
 *   0        not for us / not activated (out->why says which), shim inert;
 *   -EINVAL  malformed input (out->why says what), shim inert;
 *   -ENOMEM  allocation failure.
 * out is always safe to pass to sda_env_free(). */
int sda_env_parse(const struct sda_env_input *in, struct sda_env *out);
/* The same, allocating with zalloc (NULL: calloc). */
int sda_env_parse_with(const struct sda_env_input *in, struct sda_env *out, sda_zalloc_fn zalloc);
void sda_env_free(struct sda_env *e);

/* Strict decimal parsers used above (exported for tests and config):
 * no sign except as noted, no spaces, no trailing garbage, no overflow. */
int sda_parse_int(const char *s, int *ret);          /* optional leading '-' ... */
int sda_parse_u64(const char *s, uint64_t *ret);
int sda_parse_pid(const char *s, pid_t *ret);        /* > 0 */

/* Classification of systemd's reserved names. */
enum sda_name_kind {
	SDA_NAME_PLAIN = 0,   /* an operator's FileDescriptorName= */
	SDA_NAME_UNKNOWN,     /* "unknown": unnamed socket */
	SDA_NAME_STORED,      /* "stored": from the fd store, not a socket unit */
	SDA_NAME_CONNECTION,  /* "connection": Accept=yes connection socket */
};
enum sda_name_kind sda_name_kind(const char *name);

#endif
