/* SPDX-License-Identifier: MIT */
/* sockets: --listen.  sdadopt makes the sockets itself, as
 * systemd-socket-activate -l would, moves them to fds 3.. (after the ones it
 * inherited itself) and sets LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "env.h"
#include "launcher.h"

int ln_inherited(char **names_out)
{
	struct sda_env_input in = {
		.listen_pid = getenv("LISTEN_PID"),
		.listen_pidfdid = getenv("LISTEN_PIDFDID"),
		.listen_fds = getenv("LISTEN_FDS"),
		.listen_fdnames = getenv("LISTEN_FDNAMES"),
		.self_pid = getpid(),
		.max_fds = 1 << 20,
	};
	struct sda_env e;
	int n = sda_env_parse(&in, &e), k = 0;
	char *names = NULL;

	if (n > 0) {
		size_t len = 1;

		for (int i = 0; i < n; i++)
			len += strlen(e.names[i]) + 1;
		names = ln_xrealloc(NULL, len);
		names[0] = '\0';
		for (int i = 0; i < n; i++) {
			if (i)
				strcat(names, ":");
			strcat(names, e.names[i]);
		}
		k = n;
	} else if (e.for_us && in.listen_fds && sda_parse_int(in.listen_fds, &k) == 0 && k > 0) {
		/* a bad LISTEN_FDNAMES: the sockets are still ours, unnamed */
		size_t len = (size_t)k * 8 + 1;

		names = ln_xrealloc(NULL, len);
		names[0] = '\0';
		for (int i = 0; i < k; i++)
			strcat(names, i ? ":unknown" : "unknown");
	} else {
		k = 0;
	}
	sda_env_free(&e);
	if (names_out)
		*names_out = names;
	else
		free(names);
	return k;
}

_Noreturn static void fail(const char *a, const char *what, int e)
{
	ln_die(EX_OSERR_, "--listen %s: %s: %s", a, what, strerror(e));
}

static socklen_t to_sockaddr(const struct sda_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(a->port);
		memcpy(&s->sin_addr, a->ip, 4);
		return sizeof(*s);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(a->port);
		memcpy(&s->sin6_addr, a->ip, 16);
		s->sin6_scope_id = a->scope_id;
		return sizeof(*s);
	}
	{
		struct sockaddr_un *s = (struct sockaddr_un *)ss;

		s->sun_family = AF_UNIX;
		if (a->abstract) {
			s->sun_path[0] = '\0';
			memcpy(s->sun_path + 1, a->path, a->plen);
			return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + a->plen);
		}
		memcpy(s->sun_path, a->path, a->plen);
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + a->plen + 1);
	}
}

/* One socket for --listen `text`; v6only: 1 set, 0 clear, -1 leave. */
static int make_socket(const char *text, int type, int v6only_peer)
{
	struct sda_listen_addr la;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1, one = 1, zero = 0;

	if (sda_listen_parse(text, &la) < 0)
		ln_die(EX_OSERR_, "--listen %s: not an address", text);
	if (la.ifname[0]) {
		unsigned idx = if_nametoindex(la.ifname);

		if (!idx)
			ln_die(EX_OSERR_, "--listen %s: no interface %s", text, la.ifname);
		la.addr.scope_id = idx;
	}
	if (la.bare_port) {
		/* like systemd: [::]:PORT dual-stack if IPv6 works, else 0.0.0.0 */
		fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
		if (fd < 0 && errno == EAFNOSUPPORT) {
			la.addr.family = AF_INET;
		} else if (fd < 0) {
			fail(text, "socket", errno);
		} else if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) {
			fail(text, "IPV6_V6ONLY", errno);
		}
	}
	if (fd < 0) {
		fd = socket(la.addr.family, type | SOCK_CLOEXEC, 0);
		if (fd < 0)
			fail(text, "socket", errno);
	}
	if (la.addr.family != AF_UNIX &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		fail(text, "SO_REUSEADDR", errno);
	if (la.addr.family == AF_INET6 && !la.bare_port && v6only_peer &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		fail(text, "IPV6_V6ONLY", errno);
	if (la.addr.family == AF_UNIX && !la.addr.abstract) {
		struct stat st;

		/* a stale socket file, as systemd removes it */
		if (lstat(la.addr.path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(la.addr.path);
	}
	len = to_sockaddr(&la.addr, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		fail(text, "bind", errno);
	if (type != SOCK_DGRAM && listen(fd, SOMAXCONN) < 0)
		fail(text, "listen", errno);
	return fd;
}

/* [::]:P (or [v6]:P) next to an IPv4 --listen on the same port: IPv6 only,
 * as BindIPv6Only=ipv6-only, or they collide. */
static int v6_needs_only(const struct opts *o, size_t i)
{
	struct sda_listen_addr a, b;

	if (sda_listen_parse(o->listen[i], &a) < 0 || a.bare_port || a.addr.family != AF_INET6)
		return 0;
	for (size_t j = 0; j < o->nlisten; j++)
		if (sda_listen_parse(o->listen[j], &b) == 0 && !b.bare_port &&
		    b.addr.family == AF_INET && b.addr.port == a.addr.port)
			return 1;
	return 0;
}

void ln_listen_sockets(const struct opts *o, struct listened *l)
{
	int *fds = ln_xrealloc(NULL, o->nlisten * sizeof(int));
	int base;
	char *inh = NULL;
	size_t len;

	memset(l, 0, sizeof(*l));
	l->k = ln_inherited(&inh);
	/* keep fds 3..3+k-1 (inherited) out of the way while creating */
	for (size_t i = 0; i < o->nlisten; i++)
		fds[i] = make_socket(o->listen[i], o->socktype, v6_needs_only(o, i));
	base = 3 + l->k + (int)o->nlisten;
	for (size_t i = 0; i < o->nlisten; i++)
		if (fds[i] >= base)
			base = fds[i] + 1;
	/* two moves: up above everything, then down into place */
	for (size_t i = 0; i < o->nlisten; i++) {
		if (dup3(fds[i], base + (int)i, O_CLOEXEC) < 0)
			ln_die(EX_OSERR_, "dup3: %s", strerror(errno));
		close(fds[i]);
	}
	for (size_t i = 0; i < o->nlisten; i++) {
		/* not close-on-exec: COMMAND inherits them */
		if (dup2(base + (int)i, 3 + l->k + (int)i) < 0)
			ln_die(EX_OSERR_, "dup2: %s", strerror(errno));
		close(base + (int)i);
	}
	free(fds);
	l->n = (int)o->nlisten;
	len = (inh ? strlen(inh) : 0) + 2;
	for (size_t i = 0; i < o->nlisten; i++)
		len += (i < o->nfdnames ? strlen(o->fdnames[i]) : 7) + 1;
	l->names = ln_xrealloc(NULL, len);
	strcpy(l->names, inh ? inh : "");
	for (size_t i = 0; i < o->nlisten; i++) {
		if (l->names[0] || i > 0 || l->k)
			strcat(l->names, ":");
		strcat(l->names, i < o->nfdnames ? o->fdnames[i] : "unknown");
	}
	free(inh);
}

void ln_set_listen_env(const struct listened *l, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", (long)pid);
	setenv("LISTEN_PID", buf, 1);
	snprintf(buf, sizeof(buf), "%d", l->k + l->n);
	setenv("LISTEN_FDS", buf, 1);
	setenv("LISTEN_FDNAMES", l->names, 1);
	unsetenv("LISTEN_PIDFDID");
}
