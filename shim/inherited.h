/* SPDX-License-Identifier: MIT */
/* inherited: the sockets the activator passed (the registry), the settings
 * read at start, and the probe that fills the registry on first use. */
#ifndef SDA_INHERITED_H
#define SDA_INHERITED_H

#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "config.h"
#include "env.h"
#include "fdtab.h"
#include "registry.h"

/* Settings read once by the constructor (SDADOPT_MAP, _MATCH, _STRICT). */
struct sda_settings {
	struct sda_map map;
	enum sda_match_policy policy;
	int strict;
};

struct sda_inherited {
	struct sda_env env;             /* names of the inherited fds */
	size_t n;                       /* how many (LISTEN_FDS) */
	/* allocated and filled at the probe (n entries; none if that ran out
	 * of memory) */
	struct sda_registry reg;
	/* where inherited socket i is now: 3 + i until moved (protect.c);
	 * -errno when it was not open at start.  Kept apart from reg.e (whose
	 * pages the constructor then never writes); reg.e[i].fd follows it
	 * once probed. */
	int *fds;
	struct sda_settings settings;
	int have_unix_paths;
	pid_t act_pid;                  /* the process LISTEN_PID named */
	_Atomic int adopted_any;
	const char *listen_env[4];      /* the original "LISTEN_...=" strings */
	const char *listen_names;
	/* adoptions per inherited socket (n), shared with forked workers: a
	 * prefork master that never binds still knows its workers adopted.
	 * This process's own from the probe until its first fork (a shared
	 * mapping costs more than the rest of activation); then a MAP_SHARED
	 * copy.  NULL until one of the two. */
	_Atomic unsigned long *_Atomic adoptions;
	_Atomic int counts_shared;      /* the copy was made (or tried) */
};
extern struct sda_inherited sda_inh;

/* The number an inherited socket is known by in logs: the fd the activator
 * passed it as (3 + its index), wherever the shim's copy has moved since. */
static inline int sda_inherited_no(const struct sda_sock *s)
{
	return SDA_LISTEN_FDS_START + (int)(s - sda_inh.reg.e);
}

/* What the constructor knows already, passed on rather than asked again. */
struct sda_start {
	int log_fd;                     /* the log's fd, or -1 */
	const char *const *listen_env;  /* 4 original "LISTEN_...=" strings or
					 * NULLs (for an exec that hands the
					 * sockets on) */
	const char *listen_fdnames;     /* LISTEN_FDNAMES's value or NULL */
	pid_t self;                     /* this process (LISTEN_PID) */
	rlim_t nofile_max;              /* hard RLIMIT_NOFILE, or RLIM_INFINITY */
};

/* Constructor: take the parsed environment (ownership of its names), make
 * the inherited fds (and the log's fd) CLOEXEC and protected.  Probing
 * waits for the first hook that needs it.  Returns 0 or -errno (then the
 * shim stays inert). */
int sda_inherited_init(struct sda_env *env, const struct sda_start *st);
void sda_inherited_configure(struct sda_settings *s);
/* Before a fork(), with the lock held (fork.c): make the adoption counts
 * shared with the child. */
void sda_inherited_before_fork(void);

/* Activated at all?  (Constant after the constructor.) */
static inline int sda_activated(void)
{
	return sda_fdtab_started();
}
/* Probe the inherited fds on first use; 1 when activated (registry ready),
 * 0 when inert.  Preserves errno. */
int sda_probed(void);
/* Has anything been probed yet (no side effect)? */
int sda_probe_done(void);

#endif
