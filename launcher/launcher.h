/* SPDX-License-Identifier: MIT */
/* The launcher sdadopt(1): shared declarations.  Parsing of addresses and of
 * the SDADOPT_* and LISTEN_* values is core/'s; this program only decides
 * and runs. */
#ifndef SDA_LAUNCHER_H
#define SDA_LAUNCHER_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "elfinfo.h"
#include "listenaddr.h"

/* exit statuses, sdadopt(1) EXIT STATUS */
#define EX_USAGE_ 64
#define EX_UNAVAILABLE_ 69
#define EX_SOFTWARE_ 70
#define EX_OSERR_ 71
#define EX_NOEXEC_ 126
#define EX_NOTFOUND_ 127

enum activator { ACT_AUTO = 0, ACT_BUILTIN, ACT_SSA };
enum seccomp_want { SECCOMP_AUTO = 0, SECCOMP_FORCE, SECCOMP_NEVER };
enum run_mode { MODE_PRELOAD = 0, MODE_SECCOMP };

struct opts {
	char **map;          size_t nmap;
	const char *log, *match, *run_for, *shim;
	int strict, explain;
	enum activator activator;
	enum seccomp_want seccomp;
	char **listen;       size_t nlisten;
	char **fdnames;      size_t nfdnames;
	int socktype;        /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	double run_for_s;
	char **argv;         /* COMMAND ARG... */
	int argc;
};

/* msg.c */
extern const char *sda_me;
void ln_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ln_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ln_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ln_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void ln_die(int st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void ln_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *ln_strdup(const char *s);
char *ln_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *ln_xrealloc(void *p, size_t n);
/* v[0] SEP v[1] SEP ... ("" for none), allocated */
char *ln_join(char *const *v, size_t n, const char *sep);

/* opts.c */
void ln_parse_opts(int argc, char **argv, struct opts *o);
void ln_usage(void);

/* preload.c: the shim and LD_PRELOAD */
char *ln_find_shim(const struct opts *o);   /* canonical path, or exits 69 */
char *ln_build_preload(const char *old, const char *shim);

/* target.c: what the command is */
struct target {
	const char *word;        /* as given */
	char *path;              /* absolute */
	/* the ELF file that runs (the interpreter of a script) */
	char *elf_path;
	char *what;              /* "CMD" or "CMD (a script run by INTERP)" */
	int is_elf;
	struct sda_elf_info elf;
	int setuid, setgid, fcaps;
	uid_t owner;
	gid_t group;
	char caps[64];
	char **problems;         /* one line per reason it cannot load the shim */
	size_t nproblems;
	int problem_static, problem_go, problem_secure, problem_other;
};
void ln_resolve_command(struct target *t, const char *word);   /* or exits 126/127 */
void ln_inspect(struct target *t);
void ln_inspect_shim(struct target *t, const char *shim_path);

/* sockets.c: --listen */
struct listened {
	int n;                   /* created sockets, now at fds base.. */
	int k;                   /* sockets inherited from our own activator */
	char *names;             /* LISTEN_FDNAMES for all k + n */
};
/* Create the --listen sockets and move them (after the k inherited ones)
 * to fds 3.., set the LISTEN_* variables for pid `for_pid`.  On failure one
 * line and exit 71. */
void ln_listen_sockets(const struct opts *o, struct listened *l);
void ln_set_listen_env(const struct listened *l, pid_t pid);
/* LISTEN_* naming this process: its count (0 if none) and names. */
int ln_inherited(char **names_out);

/* exec.c */
_Noreturn void ln_exec(const struct target *t, char **argv);
void ln_export_settings(const struct opts *o);
_Noreturn void ln_exec_ssa(const struct opts *o, const struct target *t, const char *preload);
/* seccomp mode with --activator ssa: systemd-socket-activate runs sdadopt */
_Noreturn void ln_exec_ssa_self(const struct opts *o, const struct target *t, int debug);

/* supervise.c: sdadopt stays the parent (--explain, seccomp mode).  Fill in
 * the first part, ln_supervise_fork(), then in the parent ln_supervise_run():
 * SIGCHLD and `signals` were blocked before the fork (the child gets the old
 * mask back), each of `signals` goes to the child until it has exited,
 * and its status is kept. */
struct signalfd_siginfo;
struct ln_supervise {
	const int *signals;      /* handled besides SIGCHLD; 0 ends the list */
	/* does this one go on to the child?  (NULL: every one does) */
	int (*forwards)(const struct signalfd_siginfo *si);
	int fd;                  /* the caller's fd, polled for input (-1: none) */
	void (*on_fd)(struct ln_supervise *s, short revents);
	/* before each wait: nonzero ends the run; else *timeout_ms (preset
	 * -1, no bound) bounds the wait.  NULL: the run ends when the child
	 * has exited. */
	int (*before_wait)(struct ln_supervise *s, int *timeout_ms);
	void *ctx;               /* the caller's */
	/* the mechanism's */
	pid_t child;
	int exited, status;      /* status: its exit status, 128+N for signal N */
	sigset_t old;            /* the signal mask before the fork */
};
/* Block the signals, fork: 0 in the child, its pid in the parent; exits 71
 * if it cannot. */
pid_t ln_supervise_fork(struct ln_supervise *s);
/* Serve the caller's fd and the signals until before_wait says it is done;
 * the child's status (0 if it has not exited). */
int ln_supervise_run(struct ln_supervise *s);

/* explain.c */
_Noreturn void ln_explain(const struct opts *o, const struct target *t, const char *preload,
			  enum run_mode mode);

/* seccomp.c */
/* Can this kernel and this process run seccomp mode?  0, or -errno and
 * *why (static text). */
int ln_seccomp_probe(const char **why);
/* Run the command supervised; returns its status (128+N for a signal). */
int ln_seccomp_run(const struct opts *o, const struct target *t, int logfd, int explain);

#endif
