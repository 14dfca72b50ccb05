/* SPDX-License-Identifier: MIT */
#include "adopt.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "carry.h"
#include "fdtab.h"
#include "inherited.h"
#include "lock.h"
#include "log.h"
#include "real.h"
#include "strict.h"

static int get_opt(int fd, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0 ? -1 : v;
}

/* The protocol of fd: socket()'s argument, or the default it stands for
 * (0 on an inet stream or datagram socket is TCP or UDP; a unix socket's is
 * 0), else the socket's SO_PROTOCOL. */
static int protocol_of(int fd, uint32_t kind)
{
	int d = SDA_KIND_DOMAIN(kind), t = SDA_KIND_TYPE(kind), p = SDA_KIND_PROTOCOL(kind);

	if (kind && (p || d == AF_UNIX))
		return p;
	if (kind && (d == AF_INET || d == AF_INET6) && t == SOCK_STREAM)
		return IPPROTO_TCP;
	if (kind && (d == AF_INET || d == AF_INET6) && t == SOCK_DGRAM)
		return IPPROTO_UDP;
	return get_opt(fd, SO_PROTOCOL);
}

static int miss(int fd, const struct sda_addr *want)
{
	if (sda_log_enabled(SDA_LOG_DEBUG)) {
		char a[160];

		sda_addr_format(want, a, sizeof(a));
		sda_debug("bind(%d, %s): no inherited socket serves it; binding natively", fd, a);
	}
	return 0;
}

/* Which entry serves a bind of `want` on fd (of `type`), or -1. */
static long find(const struct sda_addr *want, int type, unsigned bflags, enum sda_how *how)
{
	const struct sda_registry *reg = &sda_inh.reg;
	struct stat st;
	long i = sda_registry_match_bind(reg, want, type, bflags, how);

	if (i < 0 && want->family == AF_UNIX && !want->abstract && sda_inh.have_unix_paths &&
	    stat(want->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* the same socket file under another name (relative path, symlink) */
		i = sda_registry_find_path_inode(reg, st.st_dev, st.st_ino);
		if (i >= 0 && reg->e[i].type != type)
			i = -1;
		*how = SDA_MATCH_EXACT;
	}
	return i < 0 ? -1 : i;
}

int sda_adopt(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sda_registry *reg = &sda_inh.reg;
	sigset_t mask;
	int saved = errno, cloexec, fl, type, r, xlate, map6, pktinfo6 = 0;
	unsigned bflags = 0;
	uint32_t kind;
	struct sda_carry carry;
	struct sda_addr want;
	const struct sda_sock *s;
	enum sda_how how;
	char a[160], b[160];
	long i;

	if (!sda_probed())
		return 0;
	/* the common miss, in O(1): no inherited socket or mapping has the port
	 * (sin_port and sin6_port sit at the same offset) */
	if (sa && len >= sizeof(struct sockaddr_in) &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
	    !sda_registry_port_used(reg, ntohs(((const struct sockaddr_in *)sa)->sin_port)))
		return sda_log_enabled(SDA_LOG_DEBUG) && sda_addr_from_sockaddr(sa, len, &want) == 0 ?
			       miss(fd, &want) : 0;
	if (sda_addr_from_sockaddr(sa, len, &want) < 0)
		return 0;
	i = sda_registry_match(reg, &want, 0, &how);
	if (i < 0 && !(want.family == AF_UNIX && !want.abstract && sda_inh.have_unix_paths) &&
	    !sda_strict_may_refuse(&want))
		return miss(fd, &want);          /* still no system call */

	/* A candidate: now ask the app's socket what it is.  SO_TYPE always
	 * (it also tells that what the shim saw socket() make is still there);
	 * the family and protocol come from socket()'s own arguments when the
	 * shim saw it (tracked fds), else from the socket too. */
	type = get_opt(fd, SO_TYPE);
	kind = sda_fd_kind(fd);
	if (kind && SDA_KIND_TYPE(kind) != type)
		kind = 0;
	if (type < 0 || (kind ? SDA_KIND_DOMAIN(kind) : get_opt(fd, SO_DOMAIN)) != want.family) {
		errno = saved;
		return 0;                        /* the real bind() reports it */
	}
	if (want.family == AF_INET6) {
		int v6only = 0;
		socklen_t l = sizeof(v6only);

		/* a V6ONLY socket: a v4-mapped bind is EINVAL (the real bind()
		 * says so) and [::] asks for IPv6 only */
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l) == 0 && v6only)
			bflags |= SDA_BIND_V6ONLY;
	}
	if ((i = find(&want, type, bflags, &how)) < 0) {
		errno = saved;
		return (r = sda_strict_bypass(fd, &want, type)) ? r : miss(fd, &want);
	}
	s = &reg->e[i];
	if (protocol_of(fd, kind) != s->protocol) {
		sda_addr_format(&want, a, sizeof(a));
		sda_debug("bind(%d, %s): inherited fd %d has another protocol, binding natively",
			  fd, a, sda_inherited_no(s));
		errno = saved;
		return 0;
	}

	cloexec = fcntl(fd, F_GETFD);
	fl = fcntl(fd, F_GETFL);
	sda_lock(&mask);                         /* s->fd may move (dup2 onto it) */
	/* an IPv6 program on an IPv4 socket: a v4-mapped bind, or [::] by the
	 * dual-stack rule (which serves its IPv4 traffic) */
	map6 = want.family == AF_INET6 && s->family == AF_INET;
	sda_carry_opts(fd, want.family, type, s->protocol, s->fd, map6, &carry);
	r = SDA_REAL(dup3)(s->fd, fd, cloexec > 0 && (cloexec & FD_CLOEXEC) ? O_CLOEXEC : 0);
	if (r >= 0)
		atomic_fetch_add(&sda_inh.adoptions[i], 1);
	if (r >= 0 && fl >= 0) {
		int cur = fcntl(fd, F_GETFL);

		/* O_NONBLOCK lives on the shared file description: set it to what
		 * the app's own socket had. */
		if (cur >= 0 && (cur & O_NONBLOCK) != (fl & O_NONBLOCK))
			(void)fcntl(fd, F_SETFL, (cur & ~O_NONBLOCK) | (fl & O_NONBLOCK));
	}
	sda_unlock(&mask);
	sda_addr_format(&want, a, sizeof(a));
	if (r < 0) {
		sda_warn("bind(%d, %s): cannot adopt inherited fd %d: dup3: %s; binding natively",
			 fd, a, sda_inherited_no(s), strerrorname_np(errno));
		errno = saved;
		return 0;
	}
	atomic_store(&sda_inh.adopted_any, 1);
	/* an IPv4 app on an IPv6 socket; or an IPV6_V6ONLY [::] bind that got a
	 * dual-stack socket (nginx's "listen [::]" beside "listen 0.0.0.0"),
	 * which accepts IPv4 too: unmap those addresses */
	xlate = (want.family == AF_INET && s->family == AF_INET6) ||
		(want.family == AF_INET6 && s->family == AF_INET6 && !s->v6only &&
		 carry.v6only_asked);
	pktinfo6 = map6 && carry.pktinfo6;
	sda_fd_set(fd, SDA_FD_ADOPTED | (xlate ? SDA_FD_XLATE : 0) | (map6 ? SDA_FD_MAP6 : 0) |
		       (pktinfo6 ? SDA_FD_PKTINFO6 : 0) | (s->listening ? SDA_FD_LISTENS : 0));
	if (sda_log_enabled(SDA_LOG_INFO)) {
		sda_addr_format(&s->addr, b, sizeof(b));
		sda_info("adopted inherited fd %d \"%s\" (%s %s) as fd %d for bind(%s) [%s%s]",
			 sda_inherited_no(s), s->name, sda_type_name(s->family, s->type), b, fd, a,
			 sda_how_name(how), xlate ? ", translating addresses to IPv4" :
					    map6 ? ", translating addresses to IPv4-mapped IPv6" : "");
	}
	sda_carry_log(fd, &carry);
	if (xlate && !(sda_fd_flags(fd) & SDA_FD_XLATE))
		sda_warn("fd %d is beyond the translation table: addresses on it stay IPv6", fd);
	if (map6 && !(sda_fd_flags(fd) & SDA_FD_MAP6))
		sda_warn("fd %d is beyond the translation table: addresses on it stay IPv4", fd);
	errno = saved;
	return 1;
}
