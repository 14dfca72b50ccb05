/* SPDX-License-Identifier: MIT */
/* sda-activate: a small socket activator for the tests.
 *
 * Creates the sockets given with --listen, sets the socket options their
 * SPEC names (as ReceiveBuffer= and the like do), binds and listens them,
 * then runs CMD the way systemd runs a socket-activated service: the sockets
 * on fds 3,4,... (not CLOEXEC), LISTEN_PID (the child's own pid, set after
 * fork), LISTEN_FDS, LISTEN_FDNAMES, and LD_PRELOAD naming the shim.
 *
 * Before starting CMD it prints one line per socket on stdout:
 *     socket index=I name=NAME fd=FD ino=INODE [port=PORT] [pathino=INODE]
 * ino is the socket's own inode (fstat), pathino the inode of a unix socket's
 * file.  In CMD's arguments "{portI}" is replaced by the port of socket I, so
 * port 0 can be used everywhere.  The activator keeps its copies of the
 * sockets open until it exits (as systemd does), waits for CMD at most
 * --timeout seconds (then kills it) and exits with CMD's status (128+signal
 * when killed by a signal, 124 on timeout). */
#include "spec.h"
#include "waitbound.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_SOCKS 64
#define MAX_ENV 64

static const char usage[] =
	"usage: sda-activate [OPTION]... -- CMD [ARG]...\n"
	"  --listen SPEC        create a socket (tcp:127.0.0.1:0, tcp:[::]:0,v6only=0,\n"
	"                       udp:..., unix:/path, unix:@name, unix-dgram:..., unix-seqpacket:...);\n"
	"                       socket options as the unit would set them go on the SPEC:\n"
	"                       tcp:127.0.0.1:0,rcvbuf=100000 (see spec.h)\n"
	"  --name NAME          name (LISTEN_FDNAMES) of the next --listen (default sI)\n"
	"  --backlog N          listen backlog for stream/seqpacket sockets (default 128)\n"
	"  --nonblock           create the sockets O_NONBLOCK (systemd does)\n"
	"  --shim PATH          the shim for LD_PRELOAD (default: $SDA_SHIM)\n"
	"  --preload-first LIB  put LIB before the shim in LD_PRELOAD (e.g. libasan)\n"
	"  --no-preload         do not preload the shim (negative controls)\n"
	"  --env K=V            set K in CMD's environment\n"
	"  --unset K            remove K from CMD's environment\n"
	"  --raw-env K=V        set K verbatim after the LISTEN_* computation\n"
	"                       (\"{pid}\" in V is replaced by CMD's pid)\n"
	"  --no-fdnames         do not set LISTEN_FDNAMES\n"
	"  --no-listen-env      pass the sockets but set no LISTEN_* at all\n"
	"  --pid-other          LISTEN_PID names the activator, not CMD\n"
	"  --pidfdid            also set LISTEN_PIDFDID (CMD's pidfd inode)\n"
	"  --runs N             run CMD N times in a row on the same sockets\n"
	"  --timeout SEC        kill CMD after SEC seconds (default 600: a backstop for\n"
	"                       a hang; the callers' own waits detect one sooner)\n";

struct sock {
	struct spec sp;
	const char *name;
	int fd;
};

static struct sock socks[MAX_SOCKS];
static int nsocks;

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("sda-activate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static int parse_int(const char *s, int min, int max)
{
	char *end;

	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("bad number '%s'", s);
	return (int)v;
}

/* Create, bind and listen one socket and print its identity line. */
static void open_socket(struct sock *s, int index, int backlog, int nonblock)
{
	const struct spec *sp = &s->sp;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct stat st;
	char line[512];
	int one = 1;
	int n;

	s->fd = socket(sp->family, sp->type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (s->fd < 0)
		die("socket: %s", strerror(errno));
	if (sp->family != AF_UNIX && setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("SO_REUSEADDR: %s", strerror(errno));
	const struct spec_sockopt *failed = NULL;
	int e = spec_set_opts(s->fd, sp, &failed);
	if (e < 0)
		die("%s: %s", failed->kernel, strerror(-e));

	const struct sockaddr_un *sun = (const struct sockaddr_un *)&sp->ss;
	int is_path = sp->family == AF_UNIX && sun->sun_path[0] != 0;
	if (is_path && unlink(sun->sun_path) < 0 && errno != ENOENT)
		die("unlink %s: %s", sun->sun_path, strerror(errno));

	if (bind(s->fd, (const struct sockaddr *)&sp->ss, sp->len) < 0)
		die("bind %s: %s", addr_text((const struct sockaddr *)&sp->ss, sp->len, line, sizeof line),
		    strerror(errno));
	if (sp->type != SOCK_DGRAM && listen(s->fd, sp->backlog >= 0 ? sp->backlog : backlog) < 0)
		die("listen: %s", strerror(errno));
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) < 0 || fstat(s->fd, &st) < 0)
		die("getsockname/fstat: %s", strerror(errno));

	n = snprintf(line, sizeof line, "socket index=%d name=%s fd=%d ino=%llu", index, s->name,
		     3 + index, (unsigned long long)st.st_ino);
	if (sp->family != AF_UNIX)
		n += snprintf(line + n, sizeof line - (size_t)n, " port=%u", addr_port((struct sockaddr *)&ss));
	if (is_path) {
		if (stat(sun->sun_path, &st) < 0)
			die("stat %s: %s", sun->sun_path, strerror(errno));
		n += snprintf(line + n, sizeof line - (size_t)n, " pathino=%llu", (unsigned long long)st.st_ino);
	}
	printf("%s\n", line);
}

/* Replace "{portI}" in arg by the port of socket I (and "{pid}" by pid when
 * pid > 0).  Returns a malloc'ed string. */
static char *substitute(const char *arg, long pid)
{
	size_t cap = strlen(arg) + 1;
	char *out, *o;

	for (const char *p = arg; (p = strchr(p, '{')); p++)
		cap += 16;
	out = o = malloc(cap);
	if (!out)
		die("out of memory");
	while (*arg) {
		int idx, used = 0;
		if (sscanf(arg, "{port%d}%n", &idx, &used) == 1 && used > 0) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof ss;
			if (idx < 0 || idx >= nsocks ||
			    getsockname(socks[idx].fd, (struct sockaddr *)&ss, &len) < 0)
				die("no socket for %.*s", used, arg);
			o += sprintf(o, "%u", addr_port((struct sockaddr *)&ss));
			arg += used;
		} else if (pid > 0 && strncmp(arg, "{pid}", 5) == 0) {
			o += sprintf(o, "%ld", pid);
			arg += 5;
		} else {
			*o++ = *arg++;
		}
	}
	*o = 0;
	return out;
}

static int set_env_kv(const char *kv, long pid)
{
	char *copy = substitute(kv, pid);
	char *eq = strchr(copy, '=');

	if (!eq || eq == copy)
		die("expected K=V, got '%s'", kv);
	*eq = 0;
	int r = setenv(copy, eq + 1, 1);
	free(copy);
	return r;
}

/* The inode of a pidfd for ourselves: what LISTEN_PIDFDID carries. */
static unsigned long long self_pidfdid(void)
{
	struct stat st;
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("pidfd_open/fstat: %s", strerror(errno));
	close(fd);
	return (unsigned long long)st.st_ino;
}

struct child_cfg {
	const char *shim, *preload_first;
	int no_preload, no_fdnames, no_listen_env, pid_other, pidfdid;
	const char *env[MAX_ENV], *unset[MAX_ENV], *raw[MAX_ENV];
	int nenv, nunset, nraw;
};

/* In the child: sockets onto 3.., environment, exec. Never returns. */
static void run_child(const struct child_cfg *c, char **cmd)
{
	char buf[4096];
	int tmp[MAX_SOCKS];
	int i;

	/* Move out of the way first, so that no dup2 clobbers a socket. */
	for (i = 0; i < nsocks; i++)
		if ((tmp[i] = fcntl(socks[i].fd, F_DUPFD_CLOEXEC, 3 + nsocks)) < 0)
			_exit(127);
	for (i = 0; i < nsocks; i++)
		if (dup2(tmp[i], 3 + i) < 0) /* dup2 leaves the target without CLOEXEC */
			_exit(127);

	for (i = 0; i < c->nenv; i++)
		set_env_kv(c->env[i], 0);
	for (i = 0; i < c->nunset; i++)
		unsetenv(c->unset[i]);

	if (!c->no_listen_env && nsocks > 0) {
		snprintf(buf, sizeof buf, "%ld", (long)(c->pid_other ? getppid() : getpid()));
		setenv("LISTEN_PID", buf, 1);
		snprintf(buf, sizeof buf, "%d", nsocks);
		setenv("LISTEN_FDS", buf, 1);
		if (!c->no_fdnames) {
			size_t n = 0;
			for (i = 0; i < nsocks; i++)
				n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? ":" : "",
						      socks[i].name);
			setenv("LISTEN_FDNAMES", buf, 1);
		}
		if (c->pidfdid) {
			snprintf(buf, sizeof buf, "%llu", self_pidfdid());
			setenv("LISTEN_PIDFDID", buf, 1);
		}
	}
	for (i = 0; i < c->nraw; i++)
		set_env_kv(c->raw[i], (long)getpid());

	if (c->no_preload) {
		if (c->preload_first)
			setenv("LD_PRELOAD", c->preload_first, 1);
		else
			unsetenv("LD_PRELOAD");
	} else {
		if (!c->shim || !*c->shim) {
			fprintf(stderr, "sda-activate: no shim: give --shim or SDA_SHIM\n");
			_exit(127);
		}
		snprintf(buf, sizeof buf, "%s%s%s", c->preload_first ? c->preload_first : "",
			 c->preload_first ? ":" : "", c->shim);
		setenv("LD_PRELOAD", buf, 1);
	}

	execvp(cmd[0], cmd);
	fprintf(stderr, "sda-activate: exec %s: %s\n", cmd[0], strerror(errno));
	_exit(127);
}

int main(int argc, char **argv)
{
	struct child_cfg c = { .shim = getenv("SDA_SHIM") };
	const char *next_name = NULL;
	int backlog = 128, nonblock = 0, runs = 1, timeout = 600;
	int i, status = 0;

	/* Whatever our caller leaked must not reach the server. */
	close_range(3, ~0U, 0);

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (!strcmp(opt, "--listen") && val) {
			if (nsocks == MAX_SOCKS)
				die("too many sockets");
			if (spec_parse(val, &socks[nsocks].sp) < 0)
				exit(2);
			socks[nsocks].name = next_name;
			next_name = NULL;
			nsocks++;
		} else if (!strcmp(opt, "--name") && val) {
			next_name = val;
		} else if (!strcmp(opt, "--backlog") && val) {
			backlog = parse_int(val, 0, INT_MAX);
		} else if (!strcmp(opt, "--shim") && val) {
			c.shim = val;
		} else if (!strcmp(opt, "--preload-first") && val) {
			c.preload_first = *val ? val : NULL;
		} else if (!strcmp(opt, "--env") && val && c.nenv < MAX_ENV) {
			c.env[c.nenv++] = val;
		} else if (!strcmp(opt, "--unset") && val && c.nunset < MAX_ENV) {
			c.unset[c.nunset++] = val;
		} else if (!strcmp(opt, "--raw-env") && val && c.nraw < MAX_ENV) {
			c.raw[c.nraw++] = val;
		} else if (!strcmp(opt, "--runs") && val) {
			runs = parse_int(val, 1, 100);
		} else if (!strcmp(opt, "--timeout") && val) {
			timeout = parse_int(val, 1, 3600);
		} else {
			takes = 0;
			if (!strcmp(opt, "--nonblock"))
				nonblock = 1;
			else if (!strcmp(opt, "--no-preload"))
				c.no_preload = 1;
			else if (!strcmp(opt, "--no-fdnames"))
				c.no_fdnames = 1;
			else if (!strcmp(opt, "--no-listen-env"))
				c.no_listen_env = 1;
			else if (!strcmp(opt, "--pid-other"))
				c.pid_other = 1;
			else if (!strcmp(opt, "--pidfdid"))
				c.pidfdid = 1;
			else {
				fprintf(stderr, "sda-activate: unknown option or missing value: %s\n%s", opt, usage);
				return 2;
			}
		}
		i += takes;
	}
	if (i + 1 >= argc) {
		fputs(usage, stderr);
		return 2;
	}

	static char default_names[MAX_SOCKS][16];
	for (int k = 0; k < nsocks; k++) {
		if (!socks[k].name) {
			snprintf(default_names[k], sizeof default_names[k], "s%d", k);
			socks[k].name = default_names[k];
		}
		open_socket(&socks[k], k, backlog, nonblock);
	}
	fflush(stdout);

	int ncmd = argc - (i + 1);
	char **cmd = calloc((size_t)ncmd + 1, sizeof *cmd);
	if (!cmd)
		die("out of memory");
	for (int k = 0; k < ncmd; k++)
		cmd[k] = substitute(argv[i + 1 + k], 0);

	for (int run = 0; run < runs && status == 0; run++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0)
			run_child(&c, cmd);
		status = sda_wait_bounded(pid, timeout * 1000L, "sda-activate");
		if (status < 0)
			die("waitpid: %s", strerror(errno));
	}
	for (int k = 0; k < ncmd; k++)
		free(cmd[k]);
	free(cmd);
	return status;
}
