/* SPDX-License-Identifier: MIT */
/* hard-matrix: the malformed-environment matrix.
 *
 * Each case is a tiny socket activation done by hand: the driver creates the
 * case's file descriptors (sockets of every kind, pipes, /dev/null, a
 * directory, closed slots, ...), forks, puts them on fds 3.. of the child,
 * sets LISTEN_* / SDADOPT_* (valid by default, overridden per case) and
 * execs hard-server with the shim preloaded.  The server binds one address
 * the normal way and serves one connection.  The driver then checks:
 *
 *   - the server ran, bound and served (exit 0, "bound 0 ok", "serve ok");
 *   - adoption: the server's socket is the inherited one of the expected
 *     slot (same inode), or a native one (an inode none of the slots has;
 *     every inet socket here has SO_REUSEPORT, so a native bind next to an
 *     inherited socket succeeds);
 *   - exactly the documented log lines, in order (docs/CONTRACT.md), each a
 *     single line; no sanitizer report on stderr;
 *   - LISTEN_* removed from the environment when they were for this
 *     process, valid or not.
 *
 *   hard-matrix --shim PATH --server PATH [--preload-first LIB]
 *               [--group G]... [--case NAME]... [--list] [--verbose]
 * Exit status: 0 when every selected case passed, 1 otherwise, 77 when every
 * selected case had to be skipped (no pidfs, no CAP_NET_RAW, RLIMIT_NOFILE). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OBJ_BASE 5000            /* where the driver keeps the case's objects */
#define MAXSLOT 4
#define BIG_N 4096
#define CASE_STALL_S 60          /* a case server silent for this long hangs */
#define PORT_TRIES 8             /* runs of a case whose port was taken */
#define NATIVE (-1)

enum kind {
	K_NONE = 0,              /* end of the slot list */
	K_CLOSED, K_TCP, K_TCP6, K_UDP, K_UNIX, K_ABSTRACT, K_PIPE, K_DEVNULL, K_DIR,
	K_FILE, K_MEMFD, K_EPOLL, K_OPATH, K_TCP_UNBOUND, K_TCP_BOUND, K_TCP_CONN,
	K_NETLINK, K_RAW, K_PAIR, K_DUP0,
};

struct slot {
	enum kind k;
	const char *addr;        /* inet: address ("=J": same address and port as slot J) */
};

enum { ENV_ANY, ENV_CLEARED, ENV_KEPT };

struct mcase {
	const char *group, *name;
	struct slot s[MAXSLOT];
	int big;                 /* 1: BIG_N TCP sockets; 2: BIG_N/8 with every 4th a pipe */
	const char *env[6];      /* "K=V" sets, "K" unsets (after the valid defaults) */
	const char *bind;        /* server --bind spec (templates below) */
	int expect;              /* slot adopted, or NATIVE */
	const char *lines[8];    /* expected shim lines, in order: "a&&b" all
				  * substrings, "N*pat" N such lines, "..." more */
	int envx;
	const char *srvopt;      /* one extra server option, run before --bind */
	int needs;               /* NEEDS_PIDFS, NEEDS_RAW */
};
#define NEEDS_PIDFS 1
#define NEEDS_RAW 2
#define STDERR_CLOSED 4          /* the server starts with fd 2 closed */

/* templates in env values and bind specs:
 *   {pid} {ppid} {pidfdid} {n} {port0} {port1} {path0} {names} {long:N}
 *   {stderr}: "DEV:INODE" of the server's stderr (JOURNAL_STREAM) */

#define TCP1 { { K_TCP, "127.0.0.1" } }
#define BIND0 "tcp:127.0.0.1:{port0}"
#define ADOPTED "info: adopted inherited fd 3 "
#define NEVER_SERVING "never adopted when the program started serving"
#define NEVER_EXIT "never adopted at exit"
#define BADVAR(v) "warning: " v "&&not adopting anything"

static const struct mcase cases[] = {
	/* ---- baseline: valid activations ---- */
	{ "valid", "tcp-exact", TCP1, 0, { 0 }, BIND0, 0, { ADOPTED "\"s0\"&&[exact]" }, ENV_CLEARED, NULL, 0 },
	{ "valid", "tcp-wildcard", { { K_TCP, "0.0.0.0" } }, 0, { 0 }, BIND0, 0,
	  { ADOPTED "&&[wildcard]" }, ENV_CLEARED, NULL, 0 },
	{ "valid", "dual-stack", { { K_TCP6, "::" } }, 0, { 0 }, BIND0, 0,
	  { ADOPTED "&&[dual-stack" }, ENV_CLEARED, NULL, 0 },
	{ "valid", "tcp6-exact", { { K_TCP, "::1" } }, 0, { 0 }, "tcp6:[::1]:{port0}", 0,
	  { ADOPTED "&&[exact]" }, ENV_CLEARED, NULL, 0 },
	{ "valid", "udp-exact", { { K_UDP, "127.0.0.1" } }, 0, { 0 }, "udp:127.0.0.1:{port0}", 0,
	  { ADOPTED "&&(udp 127.0.0.1:" }, ENV_CLEARED, NULL, 0 },
	{ "valid", "unix-path", { { K_UNIX, NULL } }, 0, { 0 }, "unix:{path0}", 0,
	  { ADOPTED "&&[exact]" }, ENV_CLEARED, NULL, 0 },
	{ "valid", "unix-abstract", { { K_ABSTRACT, NULL } }, 0, { 0 }, "unix:{path0}", 0,
	  { ADOPTED "&&[exact]" }, ENV_CLEARED, NULL, 0 },
	{ "valid", "no-fdnames", TCP1, 0, { "LISTEN_FDNAMES" }, BIND0, 0, { ADOPTED "\"unknown\"" },
	  ENV_CLEARED, NULL, 0 },
	{ "valid", "pidfdid", TCP1, 0, { "LISTEN_PIDFDID={pidfdid}" }, BIND0, 0, { ADOPTED },
	  ENV_CLEARED, NULL, NEEDS_PIDFS },
	{ "valid", "not-matching", { { K_TCP, "127.0.0.2" } }, 0, { 0 }, BIND0 "", NATIVE,
	  { NEVER_SERVING, NEVER_EXIT }, ENV_CLEARED, NULL, 0 },
	{ "valid", "port-zero-bind", TCP1, 0, { 0 }, "tcp:127.0.0.1:0", NATIVE,
	  { NEVER_SERVING, NEVER_EXIT }, ENV_CLEARED, NULL, 0 },

	/* ---- LISTEN_PID ---- */
	{ "pid", "unset", TCP1, 0, { "LISTEN_PID" }, BIND0, NATIVE, { 0 }, ENV_ANY, NULL, 0 },
	{ "pid", "empty", TCP1, 0, { "LISTEN_PID=" }, BIND0, NATIVE, { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "garbage", TCP1, 0, { "LISTEN_PID=abc" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PID") "&&LISTEN_PID=abc" }, ENV_ANY, NULL, 0 },
	{ "pid", "negative", TCP1, 0, { "LISTEN_PID=-1" }, BIND0, NATIVE, { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "zero", TCP1, 0, { "LISTEN_PID=0" }, BIND0, NATIVE, { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "leading-space", TCP1, 0, { "LISTEN_PID= {pid}" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "trailing-garbage", TCP1, 0, { "LISTEN_PID={pid}x" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "plus-sign", TCP1, 0, { "LISTEN_PID=+{pid}" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "newline", TCP1, 0, { "LISTEN_PID={pid}\n" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "overflow", TCP1, 0, { "LISTEN_PID=99999999999999999999" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "int-max+1", TCP1, 0, { "LISTEN_PID=2147483648" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PID") }, ENV_ANY, NULL, 0 },
	{ "pid", "leading-zero", TCP1, 0, { "LISTEN_PID=0{pid}" }, BIND0, 0, { ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "pid", "other-process", TCP1, 0, { "LISTEN_PID={ppid}" }, BIND0, NATIVE, { 0 }, ENV_KEPT, NULL, 0 },
	{ "pid", "init", TCP1, 0, { "LISTEN_PID=1" }, BIND0, NATIVE, { 0 }, ENV_KEPT, NULL, 0 },

	/* ---- LISTEN_PIDFDID ---- */
	{ "pidfdid", "empty", TCP1, 0, { "LISTEN_PIDFDID=" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PIDFDID") }, ENV_CLEARED, NULL, 0 },
	{ "pidfdid", "garbage", TCP1, 0, { "LISTEN_PIDFDID=abc" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PIDFDID") }, ENV_CLEARED, NULL, 0 },
	{ "pidfdid", "negative", TCP1, 0, { "LISTEN_PIDFDID=-1" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PIDFDID") }, ENV_CLEARED, NULL, 0 },
	{ "pidfdid", "overflow", TCP1, 0, { "LISTEN_PIDFDID=18446744073709551616" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PIDFDID") }, ENV_CLEARED, NULL, 0 },
	{ "pidfdid", "leading-space", TCP1, 0, { "LISTEN_PIDFDID= {pidfdid}" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_PIDFDID") }, ENV_CLEARED, NULL, 0 },
	{ "pidfdid", "other-process", TCP1, 0, { "LISTEN_PIDFDID=1" }, BIND0, NATIVE, { 0 },
	  ENV_ANY, NULL, NEEDS_PIDFS },
	{ "pidfdid", "leading-zero", TCP1, 0, { "LISTEN_PIDFDID=0{pidfdid}" }, BIND0, 0, { ADOPTED },
	  ENV_CLEARED, NULL, NEEDS_PIDFS },

	/* ---- LISTEN_FDS ---- */
	{ "fds", "unset", TCP1, 0, { "LISTEN_FDS" }, BIND0, NATIVE, { 0 }, ENV_CLEARED, NULL, 0 },
	{ "fds", "empty", TCP1, 0, { "LISTEN_FDS=" }, BIND0, NATIVE, { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "zero", TCP1, 0, { "LISTEN_FDS=0", "LISTEN_FDNAMES" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_FDS") "&&LISTEN_FDS=0" }, ENV_CLEARED, NULL, 0 },
	{ "fds", "negative", TCP1, 0, { "LISTEN_FDS=-1" }, BIND0, NATIVE, { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "garbage", TCP1, 0, { "LISTEN_FDS=abc" }, BIND0, NATIVE, { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "trailing-garbage", TCP1, 0, { "LISTEN_FDS=1x" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "leading-space", TCP1, 0, { "LISTEN_FDS= 1" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "plus-sign", TCP1, 0, { "LISTEN_FDS=+1" }, BIND0, NATIVE, { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "hex", TCP1, 0, { "LISTEN_FDS=0x1" }, BIND0, NATIVE, { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "int-max-2", TCP1, 0, { "LISTEN_FDS=2147483645", "LISTEN_FDNAMES" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "int-max-3", TCP1, 0, { "LISTEN_FDS=2147483644", "LISTEN_FDNAMES" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_FDS") "&&RLIMIT_NOFILE" }, ENV_CLEARED, NULL, 0 },
	{ "fds", "overflow", TCP1, 0, { "LISTEN_FDS=99999999999999999999" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },
	{ "fds", "above-rlimit", TCP1, 0, { "LISTEN_FDS=1000000", "LISTEN_FDNAMES" }, BIND0, NATIVE,
	  { BADVAR("LISTEN_FDS") "&&RLIMIT_NOFILE" }, ENV_CLEARED, NULL, 0 },
	{ "fds", "more-than-passed", { { K_TCP, "127.0.0.1" }, { K_CLOSED, NULL } }, 0, { 0 }, BIND0, 0,
	  { "warning: ignoring inherited fd 4 \"s1\"&&not an open file descriptor", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "fds", "fewer-than-passed", { { K_TCP, "127.0.0.1" }, { K_TCP, "127.0.0.1" } }, 0,
	  { "LISTEN_FDS=1", "LISTEN_FDNAMES=s0" }, "tcp:127.0.0.1:{port1}", NATIVE,
	  { NEVER_SERVING, NEVER_EXIT }, ENV_CLEARED, NULL, 0 },

	/* ---- LISTEN_FDNAMES ---- */
	{ "names", "fewer", { { K_TCP, "127.0.0.1" }, { K_TCP, "127.0.0.1" } }, 0,
	  { "LISTEN_FDNAMES=a" }, BIND0, NATIVE, { BADVAR("LISTEN_FDNAMES") }, ENV_CLEARED, NULL, 0 },
	{ "names", "more", { { K_TCP, "127.0.0.1" }, { K_TCP, "127.0.0.1" } }, 0,
	  { "LISTEN_FDNAMES=a:b:c" }, BIND0, NATIVE, { BADVAR("LISTEN_FDNAMES") }, ENV_CLEARED, NULL, 0 },
	{ "names", "empty-one", TCP1, 0, { "LISTEN_FDNAMES=" }, BIND0, 0, { ADOPTED "\"\"" }, ENV_CLEARED, NULL, 0 },
	{ "names", "empty-two", { { K_TCP, "127.0.0.1" }, { K_TCP, "127.0.0.1" } }, 0,
	  { "LISTEN_FDNAMES=" }, BIND0, NATIVE, { BADVAR("LISTEN_FDNAMES") }, ENV_CLEARED, NULL, 0 },
	{ "names", "control-chars", TCP1, 0, { "LISTEN_FDNAMES=a\nb\x1b[31m" }, BIND0, 0,
	  { ADOPTED "\"a?b?[31m\"" }, ENV_CLEARED, NULL, 0 },
	{ "names", "format-directives", TCP1, 0, { "LISTEN_FDNAMES=%s%n%x%%" }, BIND0, 0,
	  { ADOPTED "\"%s%n%x%%\"" }, ENV_CLEARED, NULL, 0 },
	{ "names", "very-long", TCP1, 0, { "LISTEN_FDNAMES={long:4000}" }, BIND0, 0, { ADOPTED "\"xxxx" },
	  ENV_CLEARED, NULL, 0 },
	{ "names", "stored", TCP1, 0, { "LISTEN_FDNAMES=stored" }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3 \"stored\"" }, ENV_CLEARED, NULL, 0 },
	{ "names", "connection", TCP1, 0, { "LISTEN_FDNAMES=connection" }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3 \"connection\"" }, ENV_CLEARED, NULL, 0 },
	{ "names", "unknown", TCP1, 0, { "LISTEN_FDNAMES=unknown" }, BIND0, 0, { ADOPTED "\"unknown\"" },
	  ENV_CLEARED, NULL, 0 },
	{ "names", "duplicate-names", { { K_TCP, "127.0.0.1" }, { K_TCP, "127.0.0.1" } }, 0,
	  { "LISTEN_FDNAMES=web:web" }, "tcp:127.0.0.1:{port1}", 1,
	  { "info: adopted inherited fd 4 \"web\"", "inherited fd 3 \"web\"&&" NEVER_SERVING,
	    "inherited fd 3 \"web\"&&" NEVER_EXIT }, ENV_CLEARED, NULL, 0 },

	/* ---- SDADOPT_LOG ---- */
	{ "log", "bogus", TCP1, 0, { "SDADOPT_LOG=bogus" }, BIND0, 0,
	  { "warning: SDADOPT_LOG=bogus is not a level", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "log", "empty", TCP1, 0, { "SDADOPT_LOG=" }, BIND0, 0, { ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "log", "off", TCP1, 0, { "SDADOPT_LOG=off" }, BIND0, 0, { 0 }, ENV_CLEARED, NULL, 0 },
	{ "log", "OFF", TCP1, 0, { "SDADOPT_LOG=OFF" }, BIND0, 0, { 0 }, ENV_CLEARED, NULL, 0 },
	{ "log", "none", TCP1, 0, { "SDADOPT_LOG=none" }, BIND0, 0, { 0 }, ENV_CLEARED, NULL, 0 },
	{ "log", "digit-0", TCP1, 0, { "SDADOPT_LOG=0" }, BIND0, 0, { 0 }, ENV_CLEARED, NULL, 0 },
	{ "log", "digit-3", TCP1, 0, { "SDADOPT_LOG=3" }, BIND0, 0, { 0 }, ENV_CLEARED, NULL, 0 },
	{ "log", "digit-8", TCP1, 0, { "SDADOPT_LOG=8" }, BIND0, 0,
	  { "warning: SDADOPT_LOG=8 is not a level", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "log", "trailing-newline", TCP1, 0, { "SDADOPT_LOG=info\n" }, BIND0, 0,
	  { "warning: SDADOPT_LOG=info? is not a level", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "log", "format-directives", TCP1, 0, { "SDADOPT_LOG=%s%n%x%p" }, BIND0, 0,
	  { "warning: SDADOPT_LOG=%s%n%x%p is not a level", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "log", "path", TCP1, 0, { "SDADOPT_LOG=/tmp/sdadopt-hardening-log" }, BIND0, 0,
	  { "warning: SDADOPT_LOG=/tmp/sdadopt-hardening-log is not a level", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "log", "very-long", TCP1, 0, { "SDADOPT_LOG={long:10000}" }, BIND0, 0,
	  { "warning: SDADOPT_LOG=xxxx", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "log", "debug", TCP1, 0, { "SDADOPT_LOG=debug" }, BIND0, 0,
	  { "debug: ", "...", ADOPTED, "..." }, ENV_CLEARED, NULL, 0 },
	{ "log", "warning-only", { { K_TCP, "127.0.0.1" }, { K_PIPE, NULL } }, 0,
	  { "SDADOPT_LOG=warning" }, BIND0, 0, { "warning: ignoring inherited fd 4 \"s1\"&&not a socket" },
	  ENV_CLEARED, NULL, 0 },
	{ "log", "error-hides-warning", TCP1, 0, { "SDADOPT_LOG=error", "LISTEN_FDS=abc" }, BIND0,
	  NATIVE, { 0 }, ENV_CLEARED, NULL, 0 },
	{ "log", "bad-level-and-bad-fds", TCP1, 0, { "SDADOPT_LOG=loud", "LISTEN_FDS=abc" }, BIND0,
	  NATIVE, { "warning: SDADOPT_LOG=loud", BADVAR("LISTEN_FDS") }, ENV_CLEARED, NULL, 0 },

	/* ---- what the inherited fds are ---- */
	{ "fdkinds", "pipe", { { K_PIPE, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3 \"s0\"&&not a socket" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "dev-null", { { K_DEVNULL, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not a socket" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "directory", { { K_DIR, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not a socket" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "regular-file", { { K_FILE, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not a socket" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "memfd", { { K_MEMFD, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not a socket" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "epoll", { { K_EPOLL, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not a socket" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "o-path", { { K_OPATH, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "closed", { { K_CLOSED, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not an open file descriptor" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "closed-then-reused", { { K_TCP, "127.0.0.1" }, { K_CLOSED, NULL } }, 0, { 0 },
	  BIND0, 0, { "warning: ignoring inherited fd 4&&not an open file descriptor", ADOPTED },
	  ENV_CLEARED, "--open-close", 0 },
	{ "fdkinds", "unbound", { { K_TCP_UNBOUND, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not bound" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "not-listening", { { K_TCP_BOUND, "127.0.0.1" } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not listening" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "connected", { { K_TCP_CONN, "127.0.0.1" } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not listening" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "connection-named", { { K_TCP_CONN, "127.0.0.1" } }, 0,
	  { "LISTEN_FDNAMES=connection" }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3 \"connection\"&&Accept=yes" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "udp-for-tcp", { { K_UDP, "127.0.0.1" } }, 0, { 0 }, BIND0, NATIVE,
	  { NEVER_SERVING, NEVER_EXIT }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "tcp-for-udp", TCP1, 0, { 0 }, "udp:127.0.0.1:{port0}", NATIVE,
	  { NEVER_SERVING, NEVER_EXIT }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "netlink", { { K_NETLINK, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&family not supported" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "raw", { { K_RAW, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&type not supported" }, ENV_CLEARED, NULL, NEEDS_RAW },
	{ "fdkinds", "socketpair", { { K_PAIR, NULL } }, 0, { 0 }, BIND0, NATIVE,
	  { "warning: ignoring inherited fd 3&&not bound" }, ENV_CLEARED, NULL, 0 },
	{ "fdkinds", "v6only-for-v4", { { K_TCP, "::" } }, 0, { 0 }, BIND0, NATIVE,
	  { NEVER_SERVING, NEVER_EXIT }, ENV_CLEARED, NULL, 0 },

	/* ---- duplicates ---- */
	{ "dups", "same-address", { { K_TCP, "127.0.0.1" }, { K_TCP, "=0" } }, 0, { 0 }, BIND0, 0,
	  { "warning: inherited fds 3 and 4 both serve&&binds get fd 3", ADOPTED,
	    "inherited fd 4&&" NEVER_SERVING, "inherited fd 4&&" NEVER_EXIT }, ENV_CLEARED, NULL, 0 },
	{ "dups", "same-socket-twice", { { K_TCP, "127.0.0.1" }, { K_DUP0, NULL } }, 0, { 0 }, BIND0, 0,
	  { "warning: inherited fds 3 and 4 both serve&&binds get fd 3", ADOPTED,
	    "inherited fd 4&&" NEVER_SERVING, "inherited fd 4&&" NEVER_EXIT }, ENV_CLEARED, NULL, 0 },
	{ "dups", "tcp-and-udp-one-port", { { K_TCP, "127.0.0.1" }, { K_UDP, "=0" } }, 0, { 0 },
	  "udp:127.0.0.1:{port0}", 1,
	  { "info: adopted inherited fd 4 \"s1\" (udp", "inherited fd 3&&" NEVER_SERVING,
	    "inherited fd 3&&" NEVER_EXIT }, ENV_CLEARED, NULL, 0 },
	{ "dups", "wildcard-and-exact", { { K_TCP, "0.0.0.0" }, { K_TCP, "127.0.0.1" } }, 0, { 0 },
	  "tcp:127.0.0.1:{port1}", 1,
	  { "info: adopted inherited fd 4&&[exact]", "inherited fd 3&&" NEVER_SERVING,
	    "inherited fd 3&&" NEVER_EXIT }, ENV_CLEARED, NULL, 0 },

	/* ---- many fds ---- */
	/* bounded reports: 8 lines of a kind, then one for the rest */
	{ "big", "4096-sockets", { { 0 } }, 1, { 0 }, "tcp:127.0.0.1:{port4000}", 4000,
	  { "info: adopted inherited fd 4003 \"s4000\"", "8*inherited fd&&" NEVER_SERVING,
	    "warning: ... and 4087 more inherited fds were " NEVER_SERVING "&&(fd 11 to 4098)",
	    "8*inherited fd&&" NEVER_EXIT,
	    "warning: ... and 4087 more inherited fds were " NEVER_EXIT "&&(fd 11 to 4098)" },
	  ENV_CLEARED, NULL, 0 },
	{ "big", "512-mixed", { { 0 } }, 2, { 0 }, "tcp:127.0.0.1:{port401}", 401,
	  { "8*warning: ignoring inherited fd&&not a socket",
	    "warning: ... and 120 more inherited fds ignored (fd", "info: adopted inherited fd 404",
	    "8*inherited fd&&" NEVER_SERVING, "warning: ... and 375 more&&" NEVER_SERVING,
	    "8*inherited fd&&" NEVER_EXIT, "warning: ... and 375 more&&" NEVER_EXIT },
	  ENV_CLEARED, NULL, 0 },

	/* ---- the other SDADOPT_* settings ---- */
	{ "config", "map-garbage", TCP1, 0, { "SDADOPT_MAP=garbage" }, BIND0, 0,
	  { "warning: SDADOPT_MAP entry \"garbage\" ignored", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "map-bad-entries", TCP1, 0,
	  { "SDADOPT_MAP=a,b=,=c,1.2.3.4:0=x,[::1]:99999=y,@=w,1.2.3.4:80=n,1.2.3.4:80=m,,q,r" },
	  BIND0, 0, { "8*warning: SDADOPT_MAP entry", "warning: SDADOPT_MAP: 2 more bad entries ignored",
		      "warning: SDADOPT_MAP entry 1.2.3.4:80=n: no usable inherited socket", ADOPTED },
	  ENV_CLEARED, NULL, 0 },
	{ "config", "map-too-many", TCP1, 0, { "SDADOPT_MAP={map:300}" }, BIND0, 0,
	  { "warning: SDADOPT_MAP entry&&more than 256", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "map-unknown-name", TCP1, 0, { "SDADOPT_MAP=127.0.0.1:{port0}=nosuch" }, BIND0, 0,
	  { "SDADOPT_MAP entry&&nosuch", ADOPTED "&&[exact]" }, ENV_CLEARED, NULL, 0 },
	{ "config", "map-control-chars", TCP1, 0, { "SDADOPT_MAP=\n\x1b[2J=x" }, BIND0, 0,
	  { "warning: SDADOPT_MAP entry \"??[2J=x\" ignored", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "match-bogus", TCP1, 0, { "SDADOPT_MATCH=fuzzy" }, BIND0, 0,
	  { "warning: SDADOPT_MATCH=fuzzy", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "strict-bogus", TCP1, 0, { "SDADOPT_STRICT=maybe" }, BIND0, 0,
	  { "warning: SDADOPT_STRICT=maybe", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "all-bad-at-once", TCP1, 0,
	  { "SDADOPT_LOG=x", "SDADOPT_MAP=y", "SDADOPT_MATCH=z", "SDADOPT_STRICT=w" }, BIND0, 0,
	  { "warning: SDADOPT_LOG=x", "warning: SDADOPT_MAP entry \"y\"", "warning: SDADOPT_MATCH=z",
	    "warning: SDADOPT_STRICT=w", ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "journal-stream", TCP1, 0, { "JOURNAL_STREAM={stderr}" }, BIND0, 0,
	  { "<6>&&" ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "journal-stream-other", TCP1, 0, { "JOURNAL_STREAM=1:1" }, BIND0, 0, { ADOPTED },
	  ENV_CLEARED, NULL, 0 },
	{ "config", "journal-stream-garbage", TCP1, 0, { "JOURNAL_STREAM={long:200}:x:" }, BIND0, 0,
	  { ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "config", "stderr-closed", TCP1, 0, { 0 }, BIND0, 0, { 0 }, ENV_CLEARED, NULL, STDERR_CLOSED },
	{ "config", "stderr-closed-bad-env", TCP1, 0, { "LISTEN_FDS=x" }, BIND0, NATIVE, { 0 },
	  ENV_CLEARED, NULL, STDERR_CLOSED },

	/* ---- the environment itself ---- */
	{ "envdup", "pid-twice-other-first", TCP1, 0, { "LISTEN_PID={ppid}", "LISTEN_PID={pid}" }, BIND0,
	  NATIVE, { 0 }, ENV_ANY, NULL, 0 },
	{ "envdup", "pid-twice-self-first", TCP1, 0, { "LISTEN_PID={pid}", "LISTEN_PID={ppid}" }, BIND0, 0,
	  { ADOPTED }, ENV_CLEARED, NULL, 0 },
	{ "envdup", "fds-twice", TCP1, 0, { "LISTEN_FDS=1", "LISTEN_FDS=7" }, BIND0, 0, { ADOPTED },
	  ENV_CLEARED, NULL, 0 },
	{ "envdup", "names-huge", TCP1, 0, { "LISTEN_FDNAMES={long:100000}" }, BIND0, 0,
	  { ADOPTED "\"xxxx" }, ENV_CLEARED, NULL, 0 },

	/* ---- daemons close every fd >= 3 before they bind ---- */
	{ "daemonize", "close-loop", TCP1, 0, { 0 }, BIND0, 0, { ADOPTED }, ENV_CLEARED, "--close-all=loop", 0 },
	{ "daemonize", "close-range", TCP1, 0, { 0 }, BIND0, 0, { ADOPTED }, ENV_CLEARED, "--close-all=range", 0 },
	{ "daemonize", "closefrom", TCP1, 0, { 0 }, BIND0, 0, { ADOPTED }, ENV_CLEARED, "--close-all=from", 0 },
	{ "daemonize", "close-range-cloexec", TCP1, 0, { 0 }, BIND0, 0, { ADOPTED }, ENV_CLEARED,
	  "--close-all=cloexec", 0 },
	{ "daemonize", "close-range-unshare", TCP1, 0, { 0 }, BIND0, 0, { ADOPTED }, ENV_CLEARED,
	  "--close-all=unshare", 0 },
	{ "daemonize", "dup2-over-everything", { { K_TCP, "127.0.0.1" }, { K_TCP, "127.0.0.1" } }, 0,
	  { 0 }, "tcp:127.0.0.1:{port1}", 1, { "info: adopted inherited fd ", "...",
	  "never adopted at exit" }, ENV_CLEARED, "--close-all=dup2", 0 },
	{ "daemonize", "close-loop-two", { { K_TCP, "127.0.0.1" }, { K_UDP, "127.0.0.1" } }, 0, { 0 },
	  "udp:127.0.0.1:{port1}", 1, { "info: adopted inherited fd 4 \"s1\"", "inherited fd 3&&" NEVER_SERVING,
	  "inherited fd 3&&" NEVER_EXIT }, ENV_CLEARED, "--close-all=loop", 0 },
};

/* ---- the case's file descriptors, created in the driver ---- */

struct obj {
	int fd;                  /* >= OBJ_BASE, CLOEXEC; -1 for a closed slot */
	ino_t ino;
	uint16_t port;
	char path[108];
};

static char tmpdir[64];
static int verbose;
static int have_raw = -1;

static int high(int fd)
{
	int h;

	if (fd < 0)
		return -1;
	h = fcntl(fd, F_DUPFD_CLOEXEC, OBJ_BASE);
	close(fd);
	return h;
}

static int inet_sock(int type, const char *addr, uint16_t port, int v6only, int listening)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int one = 1, fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int fd = socket(fam, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (fam == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (listening && type == SOCK_STREAM && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static int make_obj(const struct slot *sl, int idx, struct obj *objs, struct obj *o)
{
	static int seq;
	const char *addr = sl->addr ? sl->addr : "127.0.0.1";
	uint16_t port = 0;
	int fd = -1, p[2];

	memset(o, 0, sizeof(*o));
	o->fd = -1;                              /* until it exists */
	if (addr[0] == '=') {
		const struct obj *ref = &objs[atoi(addr + 1)];

		port = ref->port;
		addr = sl[atoi(addr + 1) - idx].addr;
	}
	switch (sl->k) {
	case K_NONE:
	case K_CLOSED:
		o->fd = -1;
		return 0;
	case K_TCP:
		fd = inet_sock(SOCK_STREAM, addr, port, 1, 1);
		break;
	case K_TCP6:
		fd = inet_sock(SOCK_STREAM, addr, port, 0, 1);
		break;
	case K_UDP:
		fd = inet_sock(SOCK_DGRAM, addr, port, 1, 1);
		break;
	case K_TCP_BOUND:
		fd = inet_sock(SOCK_STREAM, addr, port, 1, 0);
		break;
	case K_TCP_UNBOUND:
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		break;
	case K_TCP_CONN: {
		int l = inet_sock(SOCK_STREAM, addr, 0, 1, 1), c;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

		if (l < 0)
			return -1;
		getsockname(l, (struct sockaddr *)&ss, &len);
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&ss, len) < 0)
			return -1;
		fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		/* keep the client end open: the accepted socket stays connected */
		(void)high(c);
		close(l);
		break;
	}
	case K_UNIX:
	case K_ABSTRACT: {
		struct sockaddr_un un = { .sun_family = AF_UNIX };
		socklen_t len;

		snprintf(o->path, sizeof(o->path), "%s/s%d-%d.sock", tmpdir, idx, seq++);
		if (sl->k == K_ABSTRACT) {
			char name[100];

			snprintf(name, sizeof(name), "sdadopt-hard-%d-%d-%d", (int)getpid(), idx, seq++);
			memcpy(un.sun_path + 1, name, strlen(name));
			len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
			snprintf(o->path, sizeof(o->path), "@%s", name);
		} else {
			strcpy(un.sun_path, o->path);
			len = sizeof(un);
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&un, len) < 0 || listen(fd, 16) < 0)
			return -1;
		break;
	}
	case K_PIPE:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		fd = p[0];
		(void)high(p[1]);        /* the write end stays open in the driver */
		break;
	case K_DEVNULL:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	case K_DIR:
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		break;
	case K_FILE: {
		char path[128];

		snprintf(path, sizeof(path), "%s/file", tmpdir);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		break;
	}
	case K_MEMFD:
		fd = memfd_create("sdadopt-hard", MFD_CLOEXEC);
		break;
	case K_EPOLL:
		fd = epoll_create1(EPOLL_CLOEXEC);
		break;
	case K_OPATH:
		fd = open("/etc", O_PATH | O_CLOEXEC);
		break;
	case K_NETLINK: {
		struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&nl, sizeof(nl)) < 0)
			return -1;
		break;
	}
	case K_RAW:
		fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
		break;
	case K_PAIR:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
			return -1;
		fd = p[0];
		(void)high(p[1]);
		break;
	case K_DUP0:
		fd = fcntl(objs[0].fd, F_DUPFD_CLOEXEC, 3);
		break;
	}
	if (fd < 0)
		return -1;
	o->fd = high(fd);
	if (o->fd < 0)
		return -1;
	{
		struct stat st;

		fstat(o->fd, &st);
		o->ino = st.st_ino;
	}
	o->port = port_of(o->fd);
	return 0;
}

/* ---- templates ---- */

struct ctx {
	const struct mcase *c;
	struct obj *objs;
	int n;
	pid_t pid;
	uint64_t pidfdid;
};

static void expand(const struct ctx *x, const char *t, char *out, size_t cap)
{
	size_t n = 0;

	while (*t && n + 1 < cap) {
		char v[64];
		const char *e;

		if (*t != '{' || !(e = strchr(t, '}'))) {
			out[n++] = *t++;
			continue;
		}
		v[0] = '\0';
		if (!strncmp(t, "{pid}", 5))
			snprintf(v, sizeof(v), "%d", (int)x->pid);
		else if (!strncmp(t, "{ppid}", 6))
			snprintf(v, sizeof(v), "%d", (int)getppid());
		else if (!strncmp(t, "{pidfdid}", 9))
			snprintf(v, sizeof(v), "%llu", (unsigned long long)x->pidfdid);
		else if (!strncmp(t, "{n}", 3))
			snprintf(v, sizeof(v), "%d", x->n);
		else if (!strncmp(t, "{port", 5))
			snprintf(v, sizeof(v), "%u", x->objs[atoi(t + 5)].port);
		else if (!strncmp(t, "{path", 5))
			snprintf(v, sizeof(v), "%.63s", x->objs[atoi(t + 5)].path);
		else if (!strncmp(t, "{long:", 6)) {
			long k = atol(t + 6);

			while (k-- > 0 && n + 1 < cap)
				out[n++] = 'x';
		} else if (!strncmp(t, "{stderr}", 8)) {
			struct stat st;

			if (fstat(2, &st) == 0)
				snprintf(v, sizeof(v), "%lu:%lu", (unsigned long)st.st_dev,
					 (unsigned long)st.st_ino);
		} else if (!strncmp(t, "{map:", 5)) {
			for (long i = 0, k = atol(t + 5); i < k && n + 24 < cap; i++)
				n += (size_t)snprintf(out + n, cap - n, "%s127.0.0.1:%ld=n", i ? "," : "",
						      i + 1);
		} else if (!strncmp(t, "{names}", 7)) {
			for (int i = 0; i < x->n && n + 8 < cap; i++)
				n += (size_t)snprintf(out + n, cap - n, "%ss%d", i ? ":" : "", i);
		}
		for (const char *p = v; *p && n + 1 < cap; p++)
			out[n++] = *p;
		t = e + 1;
	}
	out[n] = '\0';
}

static uint64_t self_pidfdid(int *ok)
{
	struct statfs sfs;
	struct stat st;
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	*ok = 0;
	if (fd < 0)
		return 0;
	*ok = fstatfs(fd, &sfs) == 0 && sfs.f_type == 0x50494446 && fstat(fd, &st) == 0;
	close(fd);
	return *ok ? (uint64_t)st.st_ino : 0;
}

/* ---- running one case ---- */

struct result {
	char out[1 << 16], err[1 << 23];
	size_t nout, nerr;
	int status;
	int timed_out;
};

static const char *shim, *server, *preload_first;

static void child(const struct ctx *x0, int outfd, int errfd)
{
	struct ctx x = *x0;
	static char envbuf[16][262144];
	char *envp[24], spec[512], preload[1024];
	char *argv[10];
	int ne = 0, ok, argc = 0;
	const char *defaults[] = { "LISTEN_PID={pid}", "LISTEN_FDS={n}", "LISTEN_FDNAMES={names}" };

	x.pid = getpid();
	x.pidfdid = self_pidfdid(&ok);
	dup2(outfd, 1);
	if (x.c->needs & STDERR_CLOSED)
		close(2);
	else
		dup2(errfd, 2);
	for (int i = 0; i < x.n; i++) {
		if (x.objs[i].fd >= 0)
			dup2(x.objs[i].fd, 3 + i);
		else
			close(3 + i);
	}
	syscall(SYS_close_range, 3 + x.n, ~0U, 0);

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s%s%s", preload_first ? preload_first : "",
		 preload_first ? " " : "", shim);
	envp[ne++] = preload;
	envp[ne++] = "PATH=/usr/bin:/bin";
	if (preload_first) {
		envp[ne++] = "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1";
		envp[ne++] = "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1";
	}
	/* the defaults, then the case's overrides */
	for (int d = 0; d < 3; d++) {
		size_t klen = (size_t)(strchr(defaults[d], '=') - defaults[d]);
		int overridden = 0;

		for (int k = 0; k < 6 && x.c->env[k]; k++)
			overridden |= !strncmp(x.c->env[k], defaults[d], klen) &&
				      (x.c->env[k][klen] == '=' || x.c->env[k][klen] == '\0');
		if (!overridden) {
			expand(&x, defaults[d], envbuf[ne], sizeof(envbuf[ne]));
			envp[ne] = envbuf[ne];
			ne++;
		}
	}
	for (int k = 0; k < 6 && x.c->env[k]; k++)
		if (strchr(x.c->env[k], '=')) {
			expand(&x, x.c->env[k], envbuf[ne], sizeof(envbuf[ne]));
			envp[ne] = envbuf[ne];
			ne++;
		}
	envp[ne] = NULL;

	expand(&x, x.c->bind, spec, sizeof(spec));
	argv[argc++] = (char *)server;
	if (x.c->srvopt) {
		/* "--opt=value" is passed as two arguments */
		static char opt[64];
		char *eq;

		snprintf(opt, sizeof(opt), "%s", x.c->srvopt);
		eq = strchr(opt, '=');
		if (eq)
			*eq = '\0';
		argv[argc++] = opt;
		if (eq)
			argv[argc++] = eq + 1;
	}
	argv[argc++] = "--bind";
	argv[argc++] = spec;
	argv[argc++] = "--serve";
	argv[argc++] = "--env";
	argv[argc] = NULL;
	execve(server, argv, envp);
	_exit(127);
}

static int run_case(const struct ctx *x, struct result *r)
{
	int out[2], err[2];
	pid_t pid;
	struct timespec t0;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return -1;
	out[0] = high(out[0]), out[1] = high(out[1]);
	err[0] = high(err[0]), err[1] = high(err[1]);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		child(x, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	r->nout = r->nerr = 0;
	r->timed_out = 0;
	/* A hang is a server that neither writes nor exits for CASE_STALL_S
	 * seconds (its output ends with EOF on both pipes); a slow one that
	 * keeps going is waited for. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int open_ = 2; open_ > 0;) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > CASE_STALL_S) {
			r->timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(p, 2, 1000) <= 0)
			continue;
		t0 = t;                          /* it wrote or closed a pipe: progress */
		open_ = 0;
		for (int i = 0; i < 2; i++) {
			char *buf = i ? r->err : r->out;
			size_t *n = i ? &r->nerr : &r->nout, cap = i ? sizeof(r->err) : sizeof(r->out);
			ssize_t k;

			if (p[i].fd < 0)
				continue;
			if (p[i].revents) {
				char sink[4096];

				k = *n + 1 < cap ? read(p[i].fd, buf + *n, cap - 1 - *n) :
						   read(p[i].fd, sink, sizeof(sink));
				if (k <= 0) {
					close(p[i].fd);
					if (i)
						err[0] = -1;
					else
						out[0] = -1;
					continue;
				}
				if (*n + 1 < cap)
					*n += (size_t)k;
			}
			open_++;
		}
	}
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	r->out[r->nout] = '\0';
	r->err[r->nerr] = '\0';
	waitpid(pid, &r->status, 0);
	return 0;
}

/* ---- checking ---- */

static int failed;

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed = 1;
}

static int line_matches(const char *line, size_t len, const char *pat)
{
	char buf[1024];
	const char *p = pat;

	while (*p) {
		const char *e = strstr(p, "&&");
		size_t k = e ? (size_t)(e - p) : strlen(p);
		char *hay = strndup(line, len);
		int ok;

		if (k >= sizeof(buf) || !hay)
			abort();
		memcpy(buf, p, k);
		buf[k] = '\0';
		ok = strstr(hay, buf) != NULL;
		free(hay);
		if (!ok)
			return 0;
		p += k + (e ? 2 : 0);
	}
	return 1;
}

/* The shim's lines on stderr ("PROG[PID]: sdadopt: ..."), in order. */
static int shim_lines(const char *err, const char **ls, size_t *lens, int max)
{
	int n = 0;

	for (const char *p = err; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (memmem(p, len, "]: sdadopt: ", 12) && n < max) {
			ls[n] = p;
			lens[n++] = len;
		}
		p += len + (e ? 1 : 0);
	}
	return n;
}

static void check_lines(const char *name, const char *err, const char *const *pats)
{
	static const char *ls[8192];
	static size_t lens[8192];
	int n = shim_lines(err, ls, lens, 8192), k = 0;

	for (int i = 0; i < 8 && pats[i]; i++) {
		const char *pat = pats[i];
		long rep = 1;

		if (!strcmp(pat, "...")) {
			/* skip lines until the next pattern matches (or all) */
			const char *next = i + 1 < 8 ? pats[i + 1] : NULL;

			while (k < n && (!next || !line_matches(ls[k], lens[k], next)))
				k++;
			continue;
		}
		if (pat[0] >= '0' && pat[0] <= '9' && strchr(pat, '*')) {
			rep = atol(pat);
			pat = strchr(pat, '*') + 1;
		}
		while (rep-- > 0) {
			if (k >= n) {
				fail(name, "missing log line \"%s\"", pat);
				return;
			}
			if (!line_matches(ls[k], lens[k], pat)) {
				fail(name, "log line %d is \"%.*s\", expected \"%s\"", k + 1, (int)lens[k],
				     ls[k], pat);
				return;
			}
			k++;
		}
	}
	if (k < n)
		fail(name, "unexpected log line \"%.*s\" (%d lines, expected %d)", (int)lens[k], ls[k], n,
		     k);
}

static void check_case(const struct ctx *x, const struct result *r, int *checked_ino)
{
	const char *name = x->c->name;
	const char *b = strstr(r->out, "bound 0 ");
	unsigned long ino = 0;
	const char *envl;

	if (r->timed_out)
		fail(name, "the server hung (no output and no exit for %d s: killed)", CASE_STALL_S);
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0)
		fail(name, "the server exited with status 0x%x", r->status);
	if (strstr(r->err, "AddressSanitizer") || strstr(r->err, "LeakSanitizer") ||
	    strstr(r->err, "runtime error:"))
		fail(name, "sanitizer report on stderr");
	if (!b || sscanf(b, "bound 0 ok ino=%lu", &ino) != 1) {
		fail(name, "the server did not bind: \"%.60s\"", b ? b : "(no report)");
	} else if (x->c->expect >= 0) {
		if (ino != x->objs[x->c->expect].ino)
			fail(name, "not adopted: server socket ino %lu, inherited slot %d ino %lu", ino,
			     x->c->expect, (unsigned long)x->objs[x->c->expect].ino);
	} else {
		for (int i = 0; i < x->n; i++)
			if (x->objs[i].fd >= 0 && ino == x->objs[i].ino)
				fail(name, "adopted slot %d although the shim should be inert here", i);
	}
	*checked_ino = (int)ino;
	if (!strstr(r->out, "serve ok"))
		fail(name, "the server did not serve");
	envl = strstr(r->out, "env ");
	if (!envl)
		fail(name, "no env report");
	else if (x->c->envx == ENV_CLEARED && strncmp(envl, "env none", 8) != 0)
		fail(name, "LISTEN_* left in the environment: \"%.*s\"", (int)strcspn(envl, "\n"), envl);
	else if (x->c->envx == ENV_KEPT && !strncmp(envl, "env none", 8))
		fail(name, "LISTEN_* of another process removed from the environment");
	check_lines(name, r->err, x->c->lines);
	if (strstr(x->c->srvopt ? x->c->srvopt : "", "--open-close") && !strstr(r->out, "openclose ok"))
		fail(name, "a file the program opened and closed stayed open: %.40s",
		     strstr(r->out, "openclose") ? strstr(r->out, "openclose") : "(no report)");
}

static int selected(const struct mcase *c, char **groups, int ng, char **names, int nn)
{
	int g = ng == 0, k = nn == 0;

	for (int i = 0; i < ng; i++)
		g |= !strcmp(groups[i], c->group);
	for (int i = 0; i < nn; i++)
		k |= !strcmp(names[i], c->name);
	return g && k;
}

int main(int argc, char **argv)
{
	char *groups[32], *names[32];
	int ng = 0, nn = 0, list = 0, pidfs, ran = 0, skipped = 0;
	static struct obj objs[BIG_N];
	static struct result res;
	struct rlimit rl = { 20000, 20000 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--shim") && i + 1 < argc)
			shim = argv[++i];
		else if (!strcmp(argv[i], "--server") && i + 1 < argc)
			server = argv[++i];
		else if (!strcmp(argv[i], "--preload-first") && i + 1 < argc)
			preload_first = argv[++i];
		else if (!strcmp(argv[i], "--group") && i + 1 < argc && ng < 32)
			groups[ng++] = argv[++i];
		else if (!strcmp(argv[i], "--case") && i + 1 < argc && nn < 32)
			names[nn++] = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = 1;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = 1;
		else {
			fprintf(stderr, "usage: hard-matrix --shim PATH --server PATH [--preload-first LIB] "
					"[--group G]... [--case NAME]... [--list] [--verbose]\n");
			return 2;
		}
	}
	if (list) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s %s\n", cases[i].group, cases[i].name);
		return 0;
	}
	if (!shim || !server) {
		fprintf(stderr, "hard-matrix: --shim and --server are required\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	/* room for BIG_N inherited fds plus the driver's copies above OBJ_BASE */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 16384) {
		struct rlimit want = { 16384, rl.rlim_max > 16384 ? rl.rlim_max : 16384 };

		/* raising the hard limit needs root (CAP_SYS_RESOURCE) */
		if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
			rl.rlim_cur = rl.rlim_max < 16384 ? rl.rlim_max : 16384;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sdadopt-hard-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	self_pidfdid(&pidfs);
	{
		int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);

		have_raw = fd >= 0;
		if (fd >= 0)
			close(fd);
	}

	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const struct mcase *c = &cases[ci];
		struct ctx x = { c, objs, 0, 0, 0 };
		int bad = 0, ino = 0, was_failed = failed;

		if (!selected(c, groups, ng, names, nn))
			continue;
		if (((c->needs & NEEDS_PIDFS) && !pidfs) || ((c->needs & NEEDS_RAW) && !have_raw)) {
			printf("skip %s/%s (%s)\n", c->group, c->name,
			       c->needs & NEEDS_PIDFS ? "no pidfs" : "no CAP_NET_RAW");
			skipped++;
			continue;
		}
		if (c->big) {
			struct rlimit cur;
			int want = c->big == 1 ? BIG_N : BIG_N / 8;

			getrlimit(RLIMIT_NOFILE, &cur);
			if (cur.rlim_cur < (rlim_t)OBJ_BASE + 2 * want + 64) {
				printf("skip %s/%s (RLIMIT_NOFILE %lu too low)\n", c->group, c->name,
				       (unsigned long)cur.rlim_cur);
				skipped++;
				continue;
			}
		}
		/* A native bind may find its port taken by another program (the
		 * kernel gave the inherited socket an ephemeral port that is free
		 * for its kind only, and other tests bind port 0 by the thousand
		 * meanwhile): then the case runs again with new sockets.  Every
		 * case's server must bind, so a shim that answers EADDRINUSE
		 * wrongly still fails PORT_TRIES times over. */
		for (int attempt = 1;; attempt++) {
			int retry = 0;

			bad = 0;
			if (c->big) {
				int want = c->big == 1 ? BIG_N : BIG_N / 8;

				for (int i = 0; i < want && !bad; i++) {
					struct slot sl = { (c->big == 2 && i % 4 == 3) ? K_PIPE : K_TCP, "127.0.0.1" };

					bad = make_obj(&sl, i, objs, &objs[i]) < 0;
				}
				x.n = want;
			} else {
				for (int i = 0; i < MAXSLOT && c->s[i].k != K_NONE && !bad; i++) {
					bad = make_obj(&c->s[i], i, objs, &objs[i]) < 0;
					x.n = i + 1;
				}
			}
			if (bad) {
				retry = errno == EADDRINUSE && attempt < PORT_TRIES;
				if (!retry)
					fail(c->name, "could not create the case's file descriptors: %s",
					     strerror(errno));
			} else if (run_case(&x, &res) < 0) {
				fail(c->name, "could not run the server: %s", strerror(errno));
			} else if (attempt < PORT_TRIES && strstr(res.out, "bound 0 fail EADDRINUSE")) {
				retry = 1;
			} else {
				check_case(&x, &res, &ino);
			}
			if (!retry)
				break;
			printf("# %s/%s: a port it needs was taken (EADDRINUSE): again with new sockets\n",
			       c->group, c->name);
			for (int k = 0; k < x.n; k++)
				if (objs[k].fd >= 0)
					close(objs[k].fd);
			syscall(SYS_close_range, OBJ_BASE, ~0U, 0);
		}
		if (failed != was_failed || verbose) {
			printf("---- %s/%s: stdout:\n%s---- stderr:\n%s----\n", c->group, c->name, res.out,
			       res.nerr > 4000 ? "(long)\n" : res.err);
		}
		if (failed == was_failed)
			printf("ok   %s/%s\n", c->group, c->name);
		for (int i = 0; i < x.n; i++)
			if (objs[i].fd >= 0)
				close(objs[i].fd);
		/* the other ends kept open (pipes, socketpairs, clients) */
		syscall(SYS_close_range, OBJ_BASE, ~0U, 0);
		ran++;
	}
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "hard-matrix: could not remove %s\n", tmpdir);
	}
	printf("%d cases run, %d skipped: %s\n", ran, skipped, failed ? "FAILED" : "ok");
	if (!failed && ran == 0)
		return skipped ? 77 : 1;         /* 77: ctest's "skipped" */
	return failed;
}
