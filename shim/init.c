/* SPDX-License-Identifier: MIT */
/* The constructor: read the environment once, set up the log and the
 * registry's bookkeeping, and leave probing to the first hook that needs it. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "env.h"
#include "fdstore.h"
#include "log.h"
#include "inherited.h"
#include "lock.h"
#include "real.h"
#include "report.h"
#include "sys.h"
#include "startcode.h"

#define PIDFS_MAGIC_ 0x50494446

/* The inode id of a pidfd for ourselves, as systemd compares it with
 * LISTEN_PIDFDID: only meaningful on pidfs (Linux >= 6.9). */
SDA_STARTUP static int self_pidfdid(uint64_t *id)
{
	struct statfs sfs;
	struct stat st;
	int ok, saved = errno, fd = (int)SDA_SYS(SYS_pidfd_open, sda_sys_getpid(), 0, 0);

	if (fd < 0)
		return 0;
	ok = fstatfs(fd, &sfs) == 0 && sfs.f_type == PIDFS_MAGIC_ && fstat(fd, &st) == 0;
	if (ok)
		*id = (uint64_t)st.st_ino;
	sda_real_close(fd);
	errno = saved;
	return ok;
}

/* Everything the shim reads from the environment, found in one pass over
 * it (the first of duplicates wins, as getenv()'s). */
struct vars {
	const char *listen_pid, *listen_pidfdid, *listen_fds, *listen_fdnames;
	const char *log, *map, *match, *strict, *journal, *fdstore;
	const char *listen_env[4];      /* whole "LISTEN_...=" strings, for exec */
};

/* The value of `e` if it is NAME=..., else NULL. */
SDA_STARTUP static const char *value(const char *e, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)         /* not strncmp(): see prefix() */
		if (e[i] != name[i])
			return NULL;
	return e[len] == '=' ? e + len + 1 : NULL;
}

/* Does e start with the n (<= 8) characters packed in w, lowest byte
 * first?  The prefixes every variable is tested against are immediates in
 * the code: string literals would make the shim's .rodata (and libc's
 * strncmp) a page read by every process, activated or not. */
#define PACK8(a, b, c, d, e, f, g, h)                                              \
	((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 | (uint64_t)(d) << 24 | \
	 (uint64_t)(e) << 32 | (uint64_t)(f) << 40 | (uint64_t)(g) << 48 | (uint64_t)(h) << 56)
SDA_STARTUP static int prefix(const char *e, uint64_t w, size_t n)
{
	for (size_t i = 0; i < n; i++, w >>= 8)
		if (e[i] != (char)(w & 0xff))
			return 0;
	return 1;
}

SDA_STARTUP static void first(const char **slot, const char *v)
{
	if (v && !*slot)
		*slot = v;
}

/* One of the variables sd_listen_fds() owns (and removes). */
SDA_STARTUP static const char *listen_var(const char *e, struct vars *v)
{
	const char *x;

	if (!prefix(e, PACK8('L', 'I', 'S', 'T', 'E', 'N', '_', 0), 7))
		return NULL;
	if ((x = value(e, "LISTEN_PID", 10)))
		first(&v->listen_pid, x);
	else if ((x = value(e, "LISTEN_PIDFDID", 14)))
		first(&v->listen_pidfdid, x);
	else if ((x = value(e, "LISTEN_FDS", 10)))
		first(&v->listen_fds, x);
	else if ((x = value(e, "LISTEN_FDNAMES", 14)))
		first(&v->listen_fdnames, x);
	return x;
}

SDA_STARTUP static void read_vars(struct vars *v)
{
	size_t k = 0;

	for (char **p = environ; p && *p; p++) {
		const char *e = *p;

		if (e[0] == 'L') {
			if (listen_var(e, v) && k < 4)
				v->listen_env[k++] = e;
		} else if (prefix(e, PACK8('S', 'D', 'A', 'D', 'O', 'P', 'T', '_'), 8)) {
			first(&v->log, value(e, "SDADOPT_LOG", 11));
			first(&v->map, value(e, "SDADOPT_MAP", 11));
			first(&v->match, value(e, "SDADOPT_MATCH", 13));
			first(&v->strict, value(e, "SDADOPT_STRICT", 14));
			first(&v->fdstore, value(e, "SDADOPT_FDSTORE", 15));
		} else if (prefix(e, PACK8('J', 'O', 'U', 'R', 'N', 'A', 'L', '_'), 8)) {
			first(&v->journal, value(e, "JOURNAL_STREAM", 14));
		}
	}
}

/* As unsetenv() of each LISTEN_* variable (every copy), in one pass; the
 * strings themselves stay where they are (vars.listen_env). */
SDA_STARTUP static void unset_listen_env(void)
{
	struct vars scratch = { 0 };
	char **q = environ;

	if (!environ)
		return;
	for (char **p = environ; *p; p++)
		if (!listen_var(*p, &scratch))
			*q++ = *p;
	*q = NULL;
}

SDA_STARTUP static const char *show(const char *v)
{
	return v ? v : "(unset)";
}

/* SDADOPT_MAP, SDADOPT_MATCH, SDADOPT_STRICT: read once, here. */
SDA_STARTUP static void configure(const struct vars *vars)
{
	struct sda_settings st = { 0 };
	struct sda_map_error errs[8];
	const char *v;
	size_t nerr = 0;

	v = vars->map;
	if (v) {
		int saved = errno;       /* only a mapping allocates */

		if (sda_map_parse(v, &st.map, errs, 8, &nerr) < 0)
			sda_err("SDADOPT_MAP: out of memory; no mapping");
		errno = saved;
	}
	for (size_t i = 0; i < nerr && i < 8; i++) {
		char e[256];
		size_t n = errs[i].len < sizeof(e) - 1 ? errs[i].len : sizeof(e) - 1;

		memcpy(e, errs[i].entry, n);
		e[n] = '\0';
		sda_warn("SDADOPT_MAP entry \"%s\" ignored: %s", e, errs[i].why);
	}
	if (nerr > 8)
		sda_warn("SDADOPT_MAP: %zu more bad entries ignored", nerr - 8);
	v = vars->match;
	if (sda_parse_match_policy(v, &st.policy) < 0)
		sda_warn("SDADOPT_MATCH=%s is not a policy (exact, port); using exact", v);
	v = vars->strict;
	if (sda_parse_bool(v, &st.strict) < 0)
		sda_warn("SDADOPT_STRICT=%s is not a boolean (0/1, yes/no, true/false, on/off); strict mode off", v);
	sda_inherited_configure(&st);
}

SDA_STARTUP __attribute__((destructor)) static void sda_fini(void)
{
	if (sda_activated())             /* inert: no page of report.c's code */
		sda_report("at exit");
}

__attribute__((constructor)) static void sda_init(void)
{
	struct sda_env_input in = { 0 };
	struct vars vars = { 0 };
	struct sda_env env;
	struct sda_start start;
	struct rlimit nofile;
	enum sda_level level;
	int r, bad_level;

	/* the one look-up at start keeps close() off dlsym; every other hook
	 * resolves its real function on first use */
	sda_real_resolve_close();
	read_vars(&vars);
	/* nothing to do (most processes).  errno is not touched by what
	 * follows either, unless said (its first use binds a libc function):
	 * the system calls are made directly (sys.h) */
	if (!vars.listen_pid && !vars.fdstore)
		return;
	/* SDADOPT_FDSTORE: read whether activated or not (the first start of a
	 * service that uses the fd store has nothing to adopt yet); a process
	 * without it pays nothing more */
	if (vars.fdstore && !getauxval(AT_SECURE))
		sda_fdstore_configure();
	in.listen_pid = vars.listen_pid;
	/* not activated, or running setuid: do nothing at all */
	if (!in.listen_pid || getauxval(AT_SECURE))
		return;
	in.listen_pidfdid = vars.listen_pidfdid;
	in.listen_fds = vars.listen_fds;
	in.listen_fdnames = vars.listen_fdnames;
	/* the system call itself: no page of libc touched for getpid() */
	in.self_pid = sda_sys_getpid();
	if (sda_sys_nofile(&nofile) < 0)
		nofile.rlim_cur = nofile.rlim_max = RLIM_INFINITY;
	in.max_fds = nofile.rlim_cur != RLIM_INFINITY ? (long)nofile.rlim_cur : INT_MAX;
	if (in.listen_pidfdid)
		in.have_self_pidfdid = self_pidfdid(&in.self_pidfdid);

	r = sda_env_parse_with(&in, &env, sda_arena_zalloc);
	bad_level = sda_parse_level(vars.log, &level) < 0;
	if (r == 0 && env.for_us)
		unset_listen_env();          /* ours but empty: as sd_listen_fds(1) */
	if (r == 0) {                        /* meant for another process, or no fds */
		if (level >= SDA_LOG_DEBUG && sda_log_open(level, vars.journal, 3) >= 0) {
			sda_debug("%s (LISTEN_PID=%s, this is pid %d); not adopting anything",
				  env.why, in.listen_pid, (int)in.self_pid);
			sda_real_close(sda_log_fd());
			sda_log_set_fd(-1);
		}
		return;
	}

	sda_log_open(level, vars.journal,
		     SDA_LISTEN_FDS_START + (r > 0 ? r : 0));
	if (bad_level)
		sda_warn("SDADOPT_LOG=%s is not a level (off, error, warning, info, debug); using %s",
			 vars.log, sda_level_name(level));
	if (r < 0) {
		sda_warn("%s (LISTEN_PID=%s LISTEN_PIDFDID=%s LISTEN_FDS=%s LISTEN_FDNAMES=%s); not adopting anything",
			 env.why, show(in.listen_pid), show(in.listen_pidfdid),
			 show(in.listen_fds), show(in.listen_fdnames));
		unset_listen_env();          /* as sd_listen_fds(1) does on error */
		goto inert;
	}

	start = (struct sda_start){ .log_fd = sda_log_fd(), .listen_env = vars.listen_env,
				    .listen_fdnames = vars.listen_fdnames, .self = in.self_pid,
				    .nofile_max = nofile.rlim_max };
	if ((r = sda_inherited_init(&env, &start)) < 0) {
		sda_err("cannot set up the registry: %s; not adopting anything", strerrorname_np(-r));
		sda_env_free(&env);          /* the names are the arena's: no free() */
		goto inert;
	}
	/* The sockets are ours now: children we exec must not see them. */
	unset_listen_env();
	configure(&vars);
	sda_debug("activated: %zu inherited fds (LISTEN_FDNAMES=%s)", sda_inh.n,
		  show(in.listen_fdnames));
	return;

inert:
	if (sda_log_fd() >= 0) {
		sda_real_close(sda_log_fd());
		sda_log_set_fd(-1);
	}
}
