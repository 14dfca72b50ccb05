/* SPDX-License-Identifier: MIT */
/* state: the process-wide registry, the per-fd flag table and the one
 * mechanism every hook goes through. */
#ifndef SDA_STATE_H
#define SDA_STATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "env.h"

enum {
	SDA_FD_OWN = 1,      /* the registry's (or the log's) own fd: keep it open */
	SDA_FD_ADOPTED = 2,  /* an app fd that holds an inherited socket */
	SDA_FD_XLATE = 4,    /* addresses returned on it go v4-mapped -> AF_INET */
};

/* One byte per fd number, allocated once in the constructor when activated
 * (NULL when inert), never freed or moved: the close() hook reads it with
 * no lock. */
struct sda_fdtab {
	size_t cap;
	_Atomic unsigned char f[];
};
extern struct sda_fdtab *_Atomic sda_fdtab;

static inline unsigned sda_fd_flags(int fd)
{
	struct sda_fdtab *t = atomic_load_explicit(&sda_fdtab, memory_order_acquire);

	if (__builtin_expect(!t, 1) || (size_t)(unsigned)fd >= t->cap)
		return 0;
	return atomic_load_explicit(&t->f[fd], memory_order_relaxed);
}

void sda_fd_set(int fd, unsigned flags);

/* Constructor: take the parsed environment (ownership of its names), make
 * the inherited fds (and the log's fd, if >= 0) CLOEXEC and protected.  Probing waits for the first
 * hook that needs it.  Returns 0 or -errno (then the shim stays inert). */
int sda_state_init(struct sda_env *env, int log_fd, char **environ_);
void sda_state_atfork_prepare(void);
void sda_state_atfork_release(void);

/* Settings read once by the constructor (SDADOPT_MAP, _MATCH, _STRICT). */
struct sda_settings {
	struct sda_map map;
	enum sda_match_policy policy;
	int strict;
};
void sda_state_configure(struct sda_settings *s);

/* The never-adopted report: at exit, and once when the program starts
 * serving (its first accept or datagram receive). */
extern _Atomic int sda_report_pending;
void sda_report(const char *when);
static inline void sda_serving(void)
{
	if (__builtin_expect(atomic_load_explicit(&sda_report_pending, memory_order_relaxed), 0))
		sda_report("when the program started serving");
}

/* bind(): 1 if fd now holds an inherited socket, 0 to do the real bind,
 * -errno to fail the bind (strict mode). */
int sda_adopt(int fd, const struct sockaddr *sa, socklen_t len);
/* listen(): 1 if fd is an adopted socket that already listens. */
int sda_keeps_backlog(int fd);
/* close_range()/closefrom(): close [first, last] except our own fds. */
int sda_close_span(unsigned first, unsigned last, int flags);
/* dup2()/dup3() onto newfd: move our own fd out of the way first. */
void sda_before_dup_onto(int oldfd, int newfd);
void sda_after_dup_onto(int oldfd, int newfd);
/* a new fd from the kernel (socket(), accept()): forget stale flags; an
 * accepted fd inherits the listener's translation. */
void sda_fd_fresh(int fd, unsigned inherit);
/* unlink()/unlinkat()/remove(): 1 if the path is an inherited socket's. */
int sda_keeps_path(int dirfd, const char *path, int flags);
/* Copy a kernel-returned address into the app's buffer, v4-mapped made
 * AF_INET, truncated to the app's length as the kernel would; *applen gets
 * the full length. */
void sda_xlate_out(struct sockaddr *app, socklen_t *applen,
		   const struct sockaddr_storage *ss, socklen_t sslen);

/* exec in the activated process itself, before anything was adopted (a
 * wrapper such as `sh -c 'exec server'`, env(1), a version manager's shim):
 * hand the sockets on as systemd gave them.  sda_exec_env() returns the
 * environment to exec with: envp itself, or a copy (mmap'ed: no malloc, no
 * stack) with the original LISTEN_* entries put back; the inherited fds lose
 * FD_CLOEXEC.  sda_exec_failed() undoes both when the exec returns. */
char *const *sda_exec_env(char *const envp[], const char *what);
void sda_exec_failed(void);

#endif
