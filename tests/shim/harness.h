/* SPDX-License-Identifier: MIT */
/* harness: run sda-activate + sda-testserver from a Criterion test, read
 * their reports, and talk to the activated sockets as a client.
 *
 * The Criterion runner itself is never preloaded: sda-activate sets
 * LD_PRELOAD only in the environment of the server it execs. */
#ifndef SDA_TEST_HARNESS_H
#define SDA_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "spec.h"

/* Paths come from CMake as compile definitions. */
#define ACTIVATE SDA_ACTIVATE_PATH
#define SERVER SDA_TESTSERVER_PATH
#define SHIM SDA_SHIM_PATH

#define RUN_BUF 65536
/* Time.  No test may fail because the machine is slow: each wait is for one
 * event (a line, a connection, EOF) and gives up only when nothing has come
 * for DEADLINE_MS; the per-test Criterion timeout (TEST_BACKSTOP_S) is only a
 * backstop for a hang nothing else caught. */
#define DEADLINE_MS 60000        /* a single wait without progress */
#define TEST_BACKSTOP_S 300      /* Criterion .timeout of every test */

enum { NO_SHIM = 0, WITH_SHIM = 1 };

struct run {
	pid_t pid;
	int in, out, err;        /* our ends of the child's stdin/stdout/stderr */
	int in_w, out_w, err_w;  /* the child's ends, until it is started */
	char o[RUN_BUF], e[RUN_BUF];
	size_t olen, elen;
	int status;              /* exit code (128+signal); -1 while running */
};

/* Two-phase start, for tests that need the pipes before the exec
 * (JOURNAL_STREAM).  run_prepare() makes the pipes; run_exec() starts
 * ACTIVATE with --shim SHIM (or --no-preload) and then argv. */
void run_prepare(struct run *r);
void run_exec(struct run *r, int shim, const char *const *argv);

/* Everything at once: run_start(r, WITH_SHIM, "--listen", "...", "--",
 * SERVER, "bind", ..., NULL).  The "--" and SERVER are spelled out. */
void run_startl(struct run *r, int shim, ...);
#define run_start(r, shim, ...) run_startl((r), (shim), __VA_ARGS__, (const char *)NULL)

/* An argv under construction, for runs whose steps depend on the case. */
struct args {
	const char *v[256];
	int n;
};
void args_addl(struct args *a, ...);
#define args_add(a, ...) args_addl((a), __VA_ARGS__, (const char *)NULL)
/* run_prepare() + run_exec() of a->v. */
void run_start_args(struct run *r, int shim, struct args *a);

/* Read until the nth (0-based) complete stdout line whose first word is
 * `word` has arrived.  Returns that line (NUL-free view into r->o, ending at
 * '\n'), or NULL at the deadline or at EOF. */
const char *run_wait(struct run *r, const char *word, int nth);

/* Close the child's stdin, read both pipes to EOF, reap the activator.
 * Returns its exit code.  Logs both outputs with cr_log_info on failure. */
int run_finish(struct run *r);

/* Dump stdout and stderr into the Criterion log (for failing tests). */
void run_dump(const struct run *r);

/* Lines: the nth line of buf whose first word is `word`, or NULL. */
const char *line_find(const char *buf, const char *word, int nth);
int line_count(const char *buf, const char *word);
/* Lines of buf containing `needle` anywhere. */
int line_count_sub(const char *buf, const char *needle);
const char *line_find_sub(const char *buf, const char *needle, int nth);

/* " key=value" in one line: as a number (-1 when absent) or as text. */
long long kv_num(const char *line, const char *key);
const char *kv_str(const char *line, const char *key, char *out, size_t cap);

/* The activator's report for socket i (ino, port, pathino), -1 if absent. */
long long act_value(const struct run *r, int i, const char *key);

/* Every "bound" line of the server, as inodes.  Returns their number. */
int bound_inodes(const struct run *r, long long *ino, int cap);

/* Client side.  Sends msg through the socket `spec` names (connecting for
 * stream/seqpacket) and waits for the reply.  Returns 0 and fills reply,
 * or -errno.  Bounded by DEADLINE_MS. */
int client_echo(const char *spec, const char *msg, char *reply, size_t cap);
/* The same, and *port (if given) is the client's own port: the peer port
 * the server sees. */
int client_echo_port(const char *spec, const char *msg, char *reply, size_t cap, unsigned *port);

/* A port of `family` that nothing listens on right now (bind 0, close). */
unsigned free_port(int family);

/* A fresh directory for unix socket paths (removed by the OS's /tmp policy;
 * tests remove their files). */
void tmpdir(char *out, size_t cap);

/* The listen backlog (sk_max_ack_backlog) of the TCP listener on
 * 127.0.0.1/::1 port `port`, via NETLINK_SOCK_DIAG; -errno if unknown. */
long tcp_listen_backlog(int family, unsigned port);

/* Start `n` non-blocking connects to spec and count how many complete the
 * handshake within timeout_ms.  The sockets are closed afterwards. */
int connect_many(const char *spec, int n, int timeout_ms);

/* printf into a static rotating buffer (for building argv). */
const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));


/* Assertions shared by the tests (they dump the run when they fail). */
/* The nth "bound" line of the server carries socket i's inode. */
void expect_adopted(const struct run *r, int nth_bound, int sock);
/* No "bound" line of the server carries socket i's inode. */
void expect_not_adopted(const struct run *r, int sock);
/* The server's "loaded" step saw libsdadopt mapped (inert tests are not
 * vacuous: the shim was there and chose to do nothing). */
void expect_loaded(const struct run *r);
/* The client gets "echo:MSG" back through spec; returns the client's port. */
unsigned expect_echo(const char *spec, const char *msg);

#endif
