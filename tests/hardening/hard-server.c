/* SPDX-License-Identifier: MIT */
/* hard-server: the unmodified "real server" of the hardening tier.  It knows
 * nothing about socket activation: it creates, binds and listens its sockets
 * like any server, and reports what it got on stdout, one line per fact, so
 * that a driver can compare inodes with the activator's sockets.
 *
 *   hard-server [OPTION]...     (options run in the order given)
 *     --bind SPEC      socket(), SO_REUSEADDR + SO_REUSEPORT, bind(), listen()
 *                      SPEC: tcp:IP:PORT  tcp6:[IP]:PORT  udp:IP:PORT
 *                            udp6:[IP]:PORT  unix:/path  unix:@name  seq:/path
 *                      prints "bound I ok ino=N fd=F" or "bound I fail ERRNO"
 *     --serve          serve one connection on the last bound TCP/unix stream
 *                      socket (connecting to itself; retried, since a native
 *                      SO_REUSEPORT bind shares the port with the activator's
 *                      copy) or one datagram on a UDP one: "serve ok|fail ..."
 *     --env            "env none" or "env LISTEN_X=... ..." (what is left)
 *     --fds            "fds 3 4 ..." (open fds >= 3), "cloexec 3 ..." (those
 *                      with FD_CLOEXEC)
 *     --open-close     open /dev/null, close it, "openclose ok|leak FD"
 *     --fork-exec      fork + execv self --env --fds; the child's lines are
 *                      prefixed "child: "; then "forkexec status N"
 *     --spawn          the same through posix_spawn: prefix "spawn: "
 *     --system         the same through system(3): prefix "system: "
 *     --close-all HOW  close every fd >= 3 as a daemon does before it binds:
 *                      loop (close() up to 4096), range (close_range), from
 *                      (closefrom), cloexec (close_range CLOSE_RANGE_CLOEXEC),
 *                      unshare (close_range CLOSE_RANGE_UNSHARE), dup2 (dup2
 *                      /dev/null onto every fd 3..63, then close them)
 *     --cloexec        later --bind sockets are SOCK_CLOEXEC
 *     --maps           "shim mapped yes|no" (is a libsdadopt* in our maps?)
 *     --secure         "at_secure N" (getauxval(AT_SECURE))
 *     --exit-status N  exit with N (default 0)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/close_range.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAXB 16

struct bound {
	int fd, family, type;
	struct sockaddr_storage ss;
	socklen_t len;
};

static struct bound bs[MAXB];
static int nb;
static const char *self;
static int sock_flags;

static int parse_spec(const char *spec, struct bound *b)
{
	const char *v;
	char host[128];

	memset(&b->ss, 0, sizeof(b->ss));
	if (!strncmp(spec, "unix:", 5) || !strncmp(spec, "seq:", 4)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&b->ss;
		size_t n;

		v = strchr(spec, ':') + 1;
		b->family = AF_UNIX;
		b->type = spec[0] == 'u' ? SOCK_STREAM : SOCK_SEQPACKET;
		un->sun_family = AF_UNIX;
		n = strlen(v);
		if (n >= sizeof(un->sun_path))
			return -1;
		memcpy(un->sun_path, v, n);
		if (v[0] == '@')
			un->sun_path[0] = '\0';
		b->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (v[0] == '@' ? 0 : 1));
		return 0;
	}
	b->type = !strncmp(spec, "udp", 3) ? SOCK_DGRAM : SOCK_STREAM;
	v = strchr(spec, ':');
	if (!v)
		return -1;
	v++;
	if (v[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&b->ss;
		const char *e = strchr(v, ']');

		if (!e || e[1] != ':' || (size_t)(e - v - 1) >= sizeof(host))
			return -1;
		memcpy(host, v + 1, (size_t)(e - v - 1));
		host[e - v - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(e + 2));
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		b->family = AF_INET6;
		b->len = sizeof(*in6);
		return 0;
	}
	{
		struct sockaddr_in *in = (struct sockaddr_in *)&b->ss;
		const char *c = strrchr(v, ':');

		if (!c || (size_t)(c - v) >= sizeof(host))
			return -1;
		memcpy(host, v, (size_t)(c - v));
		host[c - v] = '\0';
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(c + 1));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		b->family = AF_INET;
		b->len = sizeof(*in);
		return 0;
	}
}

static void do_bind(const char *spec)
{
	struct bound *b = &bs[nb];
	struct stat st;
	int one = 1;

	if (nb == MAXB || parse_spec(spec, b) < 0) {
		fprintf(stderr, "hard-server: bad --bind %s\n", spec);
		exit(2);
	}
	b->fd = socket(b->family, b->type | sock_flags, 0);
	if (b->fd < 0) {
		printf("bound %d fail socket %s\n", nb++, strerrorname_np(errno));
		return;
	}
	if (b->family != AF_UNIX) {
		setsockopt(b->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(b->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	}
	if (bind(b->fd, (struct sockaddr *)&b->ss, b->len) < 0) {
		printf("bound %d fail %s\n", nb++, strerrorname_np(errno));
		return;
	}
	if (b->type != SOCK_DGRAM && listen(b->fd, 64) < 0) {
		printf("bound %d fail listen %s\n", nb++, strerrorname_np(errno));
		return;
	}
	fstat(b->fd, &st);
	b->len = sizeof(b->ss);
	getsockname(b->fd, (struct sockaddr *)&b->ss, &b->len);
	printf("bound %d ok ino=%lu fd=%d\n", nb++, (unsigned long)st.st_ino, b->fd);
}

/* The port of an IPv4 or IPv6 socket address, 0 for anything else. */
static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

#define SERVE_TRIES 64
#define SERVE_TRY_MS 200         /* then the next try, with a new client */
#define SERVE_LATE_MS 20000      /* after the last try: a late arrival still counts */

/* Connect a client to the bound socket (TCP, unix) or send it a datagram
 * (UDP) and serve that one.  With a native SO_REUSEPORT bind the kernel may
 * queue the connection on the activator's copy of the port instead, so a
 * new client tries again after SERVE_TRY_MS.  Every client stays open and is
 * recognised by its port when its connection or datagram arrives, however
 * late (a slow machine): it is never mistaken for another one, and no wait
 * depends on how fast the kernel delivers.  A unix socket has no such
 * sharing: one client, one long wait. */
static int serve_once(struct bound *b)
{
	int cl[SERVE_TRIES], port[SERVE_TRIES], n = 0, r = -1;
	char buf[16];

	while (r == -1) {
		struct pollfd p = { .fd = b->fd, .events = POLLIN };
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		int wait_ms, a = -1, k;
		ssize_t got = -1;

		if (n < SERVE_TRIES && (n == 0 || b->family != AF_UNIX)) {
			struct sockaddr_storage me;
			socklen_t ml = sizeof(me);
			int c = socket(b->family, b->type | SOCK_CLOEXEC, 0);

			if (c < 0)
				break;
			if (b->type == SOCK_DGRAM ?
				    sendto(c, "ping", 4, 0, (struct sockaddr *)&b->ss, b->len) != 4 :
				    connect(c, (struct sockaddr *)&b->ss, b->len) < 0) {
				close(c);
				break;
			}
			cl[n] = c;
			port[n++] = getsockname(c, (struct sockaddr *)&me, &ml) == 0 ? port_of(&me) : 0;
			wait_ms = b->family == AF_UNIX ? SERVE_LATE_MS : SERVE_TRY_MS;
		} else if (b->family != AF_UNIX && n == SERVE_TRIES) {
			wait_ms = SERVE_LATE_MS;
			n++;                     /* the last wait */
		} else {
			break;                   /* nothing arrived */
		}
		if (poll(&p, 1, wait_ms) != 1)
			continue;
		if (b->type == SOCK_DGRAM)
			got = recvfrom(b->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		else if ((a = accept(b->fd, (struct sockaddr *)&from, &fl)) < 0)
			break;
		/* whose?  (unix: the one client) */
		for (k = 0; k < n && k < SERVE_TRIES; k++)
			if (b->family == AF_UNIX || (port[k] && port[k] == port_of(&from)))
				break;
		if (k == n || k == SERVE_TRIES) {
			if (a >= 0)
				close(a);        /* not one of ours: go on waiting */
			continue;
		}
		if (b->type == SOCK_DGRAM)
			r = got == 4 ? 0 : -2;   /* -2: served, wrongly */
		else
			r = write(a, "hello", 5) == 5 && read(cl[k], buf, sizeof(buf)) == 5 ? 0 : -2;
		if (a >= 0)
			close(a);
	}
	for (int k = 0; k < n && k < SERVE_TRIES; k++)
		close(cl[k]);
	return r == 0 ? 0 : -1;
}

static void report_env(void)
{
	int any = 0;

	printf("env");
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "LISTEN_", 7)) {
			printf(" %s", *e);
			any = 1;
		}
	printf("%s\n", any ? "" : " none");
}

static void report_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char fds[4096] = "", ce[4096] = "";
	int me = d ? dirfd(d) : -1;

	while (d && (de = readdir(d))) {
		int fd = atoi(de->d_name);
		char t[16];

		if (de->d_name[0] == '.' || fd < 3 || fd == me)
			continue;
		snprintf(t, sizeof(t), " %d", fd);
		if (strlen(fds) + strlen(t) < sizeof(fds))
			strcat(fds, t);
		if ((fcntl(fd, F_GETFD) & FD_CLOEXEC) && strlen(ce) + strlen(t) < sizeof(ce))
			strcat(ce, t);
	}
	if (d)
		closedir(d);
	printf("fds%s\ncloexec%s\n", fds, ce);
}

/* Run self --env --fds in a child; copy its lines with a prefix. */
static void child_report(const char *how)
{
	char *argv[] = { (char *)self, "--env", "--fds", NULL };
	int p[2], st = -1;
	pid_t pid = -1;
	FILE *in;
	char line[8192];

	fflush(stdout);
	if (pipe2(p, O_CLOEXEC) < 0)
		exit(3);
	if (!strcmp(how, "child")) {
		pid = fork();
		if (pid == 0) {
			dup2(p[1], 1);
			execv(self, argv);
			_exit(127);
		}
	} else if (!strcmp(how, "spawn")) {
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0)
			pid = -1;
		posix_spawn_file_actions_destroy(&fa);
	} else {
		char cmd[4200];
		int saved = fcntl(1, F_DUPFD_CLOEXEC, 3);

		/* system(): the shell and then self, both with our environment */
		snprintf(cmd, sizeof(cmd), "exec '%s' --env --fds", self);
		dup2(p[1], 1);
		st = system(cmd);
		dup2(saved, 1);
		close(saved);
	}
	close(p[1]);
	in = fdopen(p[0], "r");
	while (in && fgets(line, sizeof(line), in))
		printf("%s: %s", how, line);
	if (in)
		fclose(in);
	if (pid > 0)
		waitpid(pid, &st, 0);
	printf("%s status %d\n", how, st);
}

int main(int argc, char **argv)
{
	int status = 0;

	self = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--bind") && i + 1 < argc) {
			do_bind(argv[++i]);
		} else if (!strcmp(o, "--serve")) {
			int k = nb - 1;

			while (k >= 0 && bs[k].fd < 0)
				k--;
			printf("serve %s\n", k >= 0 && serve_once(&bs[k]) == 0 ? "ok" : "fail");
		} else if (!strcmp(o, "--env")) {
			report_env();
		} else if (!strcmp(o, "--fds")) {
			report_fds();
		} else if (!strcmp(o, "--open-close")) {
			int fd = open("/dev/null", O_RDONLY);

			close(fd);
			if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
				printf("openclose ok\n");
			else
				printf("openclose leak %d\n", fd);
		} else if (!strcmp(o, "--fork-exec")) {
			child_report("child");
		} else if (!strcmp(o, "--spawn")) {
			child_report("spawn");
		} else if (!strcmp(o, "--system")) {
			child_report("system");
		} else if (!strcmp(o, "--close-all") && i + 1 < argc) {
			const char *how = argv[++i];
			int r = 0;

			if (!strcmp(how, "loop")) {
				for (int fd = 3; fd < 4096; fd++)
					close(fd);
			} else if (!strcmp(how, "range")) {
				r = close_range(3, ~0U, 0);
			} else if (!strcmp(how, "from")) {
				closefrom(3);
			} else if (!strcmp(how, "cloexec")) {
				r = close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
			} else if (!strcmp(how, "unshare")) {
				r = close_range(3, ~0U, CLOSE_RANGE_UNSHARE);
			} else if (!strcmp(how, "dup2")) {
				int nul = open("/dev/null", O_RDONLY);

				for (int fd = 3; fd < 64; fd++)
					if (fd != nul && dup2(nul, fd) < 0)
						r = -1;
				for (int fd = 3; fd < 64; fd++)
					close(fd);
			}
			printf("closeall %s %s\n", how, r == 0 ? "ok" : strerrorname_np(errno));
		} else if (!strcmp(o, "--cloexec")) {
			sock_flags = SOCK_CLOEXEC;
		} else if (!strcmp(o, "--maps")) {
			FILE *m = fopen("/proc/self/maps", "r");
			char line[4096];
			int yes = 0;

			while (m && fgets(line, sizeof(line), m))
				yes |= strstr(line, "libsdadopt") != NULL;
			if (m)
				fclose(m);
			printf("shim mapped %s\n", yes ? "yes" : "no");
		} else if (!strcmp(o, "--secure")) {
			printf("at_secure %lu\n", getauxval(AT_SECURE));
		} else if (!strcmp(o, "--exit-status") && i + 1 < argc) {
			status = atoi(argv[++i]);
		} else {
			fprintf(stderr, "hard-server: unknown option %s\n", o);
			return 2;
		}
	}
	return status;
}
