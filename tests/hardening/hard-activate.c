/* SPDX-License-Identifier: MIT */
/* hard-activate: a minimal socket activator for the hardening scripts.
 *
 *   hard-activate [OPTION]... -- CMD [ARG]...
 *     --tcp ADDR        a listening TCP socket on ADDR, port 0 (IPv4 or IPv6)
 *     --tcp-dual        a listening TCP socket on [::], not IPV6_V6ONLY
 *     --udp ADDR        a UDP socket on ADDR, port 0
 *     --unix PATH       a listening unix stream socket on PATH
 *     --shim PATH       put PATH in LD_PRELOAD (after --preload-first)
 *     --preload-first L put L first in LD_PRELOAD (libasan)
 *     --env K=V         set K in CMD's environment ("{pid}" is CMD's pid)
 *     --listen-pid V    LISTEN_PID=V instead of CMD's pid ("{ppid}": ours)
 *     --timeout SEC     kill CMD after SEC seconds (default 60): exit 124
 *     --print           print "socket I fd=F ino=N port=P" per socket
 *
 * CMD runs with the sockets on fds 3.. (not CLOEXEC), LISTEN_PID (its own
 * pid), LISTEN_FDS, LISTEN_FDNAMES=s0:s1:...  In CMD's arguments "{portI}",
 * "{inoI}" and "{pathI}" stand for socket I's port, inode and unix path.
 * Exits with CMD's status (128 + signal if killed). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXS 16

struct s {
	int fd;
	unsigned port;
	unsigned long ino;
	char path[108];
};

static struct s socks[MAXS];
static int ns;

static void die(const char *what)
{
	fprintf(stderr, "hard-activate: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void add_inet(int type, const char *addr, int dual)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET, one = 1, v6only = !dual;
	int fd = socket(fam, type, 0);
	struct stat st;

	if (fd < 0 || ns == MAXS)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* so that a native bind of the same address next to it succeeds (and
	 * shows as another inode) when the shim is inert */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (fam == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
		a->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
			die(addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
			die(addr);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die("bind");
	if (type == SOCK_STREAM && listen(fd, 128) < 0)
		die("listen");
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	socks[ns].port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
					       ((struct sockaddr_in6 *)&ss)->sin6_port);
	fstat(fd, &st);
	socks[ns].ino = (unsigned long)st.st_ino;
	socks[ns++].fd = fd;
}

static void add_unix(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct stat st;

	if (fd < 0 || ns == MAXS || strlen(path) >= sizeof(un.sun_path))
		die("socket");
	strcpy(un.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 128) < 0)
		die(path);
	fstat(fd, &st);
	socks[ns].ino = (unsigned long)st.st_ino;
	strcpy(socks[ns].path, path);
	socks[ns++].fd = fd;
}

/* Replace {portI} {inoI} {pathI} {pid} {ppid} in t. */
static char *subst(const char *t, pid_t pid, pid_t ppid)
{
	size_t cap = strlen(t) + 256, n = 0;
	char *o = malloc(cap);

	if (!o)
		die("malloc");
	while (*t) {
		char v[128] = "";
		const char *e = *t == '{' ? strchr(t, '}') : NULL;
		int i;

		if (!e) {
			o[n++] = *t++;
		} else {
			if (sscanf(t, "{port%d}", &i) == 1 && i >= 0 && i < ns)
				snprintf(v, sizeof(v), "%u", socks[i].port);
			else if (sscanf(t, "{ino%d}", &i) == 1 && i >= 0 && i < ns)
				snprintf(v, sizeof(v), "%lu", socks[i].ino);
			else if (sscanf(t, "{path%d}", &i) == 1 && i >= 0 && i < ns)
				snprintf(v, sizeof(v), "%s", socks[i].path);
			else if (!strncmp(t, "{pid}", 5))
				snprintf(v, sizeof(v), "%d", (int)pid);
			else if (!strncmp(t, "{ppid}", 6))
				snprintf(v, sizeof(v), "%d", (int)ppid);
			else
				snprintf(v, sizeof(v), "%.*s", (int)(e - t + 1), t);
			if (n + strlen(v) + 1 >= cap && !(o = realloc(o, cap += 256 + strlen(v))))
				die("realloc");
			memcpy(o + n, v, strlen(v));
			n += strlen(v);
			t = e + 1;
		}
		if (n + 2 >= cap && !(o = realloc(o, cap *= 2)))
			die("realloc");
	}
	o[n] = '\0';
	return o;
}

int main(int argc, char **argv)
{
	const char *shim = NULL, *first = NULL, *listen_pid = "{pid}";
	const char *envs[64];
	int ne = 0, timeout = 60, print = 0, i, st;
	pid_t pid, me = getpid();
	time_t t0;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--tcp-dual")) {
			add_inet(SOCK_STREAM, "::", 1);
			continue;
		}
		if (!strcmp(o, "--print")) {
			print = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "hard-activate: %s needs a value\n", o);
			return 2;
		}
		i++;
		if (!strcmp(o, "--tcp"))
			add_inet(SOCK_STREAM, v, 0);
		else if (!strcmp(o, "--udp"))
			add_inet(SOCK_DGRAM, v, 0);
		else if (!strcmp(o, "--unix"))
			add_unix(v);
		else if (!strcmp(o, "--shim"))
			shim = v;
		else if (!strcmp(o, "--preload-first"))
			first = v;
		else if (!strcmp(o, "--env") && ne < 64)
			envs[ne++] = v;
		else if (!strcmp(o, "--listen-pid"))
			listen_pid = v;
		else if (!strcmp(o, "--timeout"))
			timeout = atoi(v);
		else {
			fprintf(stderr, "hard-activate: unknown option %s\n", o);
			return 2;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: hard-activate [OPTION]... -- CMD [ARG]...\n");
		return 2;
	}
	if (print) {
		for (int k = 0; k < ns; k++)
			printf("socket %d fd=%d ino=%lu port=%u\n", k, socks[k].fd, socks[k].ino,
			       socks[k].port);
		fflush(stdout);
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char buf[64], names[16 * MAXS] = "", *pl = NULL;
		char **av = calloc((size_t)argc, sizeof(*av));
		int k;

		pid = getpid();
		/* fds 3.. in order; the originals may sit in that range */
		for (k = 0; k < ns; k++)
			socks[k].fd = fcntl(socks[k].fd, F_DUPFD, 100);
		for (k = 0; k < ns; k++) {
			dup2(socks[k].fd, 3 + k);
			close(socks[k].fd);
			snprintf(names + strlen(names), 16, "%ss%d", k ? ":" : "", k);
		}
		/* like systemd: nothing else is inherited */
		syscall(SYS_close_range, 3 + ns, ~0U, 0);
		if (ns) {
			setenv("LISTEN_PID", subst(listen_pid, pid, me), 1);
			snprintf(buf, sizeof(buf), "%d", ns);
			setenv("LISTEN_FDS", buf, 1);
			setenv("LISTEN_FDNAMES", names, 1);
		}
		if (shim || first) {
			size_t l = (first ? strlen(first) : 0) + (shim ? strlen(shim) : 0) + 2;

			pl = malloc(l);
			snprintf(pl, l, "%s%s%s", first ? first : "", first && shim ? " " : "",
				 shim ? shim : "");
			setenv("LD_PRELOAD", pl, 1);
		}
		for (k = 0; k < ne; k++)
			putenv(subst(envs[k], pid, me));
		for (k = i + 1; k < argc; k++)
			av[k - i - 1] = subst(argv[k], pid, me);
		execvp(av[0], av);
		fprintf(stderr, "hard-activate: exec %s: %s\n", av[0], strerror(errno));
		_exit(127);
	}
	t0 = time(NULL);
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			die("waitpid");
		if (time(NULL) - t0 > timeout) {
			fprintf(stderr, "hard-activate: %s timed out after %d s: killing it\n", argv[i + 1],
				timeout);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 124;
		}
		usleep(20000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
