/* SPDX-License-Identifier: MIT */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sda_sys_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	return (int)syscall(SYS_getsockname, fd, sa, len);
}

static int get_int_opt(int fd, int level, int opt, int *val)
{
	socklen_t l = sizeof(*val);

	*val = 0;
	if (getsockopt(fd, level, opt, val, &l) < 0)
		return -errno;
	return l == sizeof(*val) ? 0 : -EINVAL;
}

static int unusable(struct sda_sock *s, const char *why, int err)
{
	s->usable = 0;
	s->why = why;
	s->err = err;
	return err ? -err : -EINVAL;
}

int sda_probe(int fd, struct sda_sock *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct stat st;
	int r;

	const char *name = s->name;

	memset(s, 0, sizeof(*s));               /* every field is this probe's */
	s->name = name;
	s->fd = fd;
	if (fcntl(fd, F_GETFD) < 0)
		return unusable(s, "not an open file descriptor", errno);
	if (fstat(fd, &st) < 0)
		return unusable(s, "fstat failed", errno);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (!S_ISSOCK(st.st_mode))
		return unusable(s, "not a socket", 0);
	if ((r = get_int_opt(fd, SOL_SOCKET, SO_DOMAIN, &s->family)) < 0 ||
	    (r = get_int_opt(fd, SOL_SOCKET, SO_TYPE, &s->type)) < 0 ||
	    (r = get_int_opt(fd, SOL_SOCKET, SO_PROTOCOL, &s->protocol)) < 0 ||
	    (r = get_int_opt(fd, SOL_SOCKET, SO_ACCEPTCONN, &s->listening)) < 0)
		return unusable(s, "cannot read the socket's options", -r);
	if (s->family != AF_INET && s->family != AF_INET6 && s->family != AF_UNIX)
		return unusable(s, "address family not supported (only IPv4, IPv6 and unix)", 0);
	if (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET)
		return unusable(s, "socket type not supported (only stream, datagram and seqpacket)", 0);
	if (s->family == AF_INET6 &&
	    (r = get_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &s->v6only)) < 0)
		return unusable(s, "cannot read IPV6_V6ONLY", -r);
	memset(&ss, 0, sizeof(ss));
	if (sda_sys_getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return unusable(s, "getsockname failed", errno);
	if (sda_addr_from_sockaddr((struct sockaddr *)&ss, len, &s->addr) < 0 ||
	    (s->family != AF_UNIX && s->addr.port == 0))
		return unusable(s, "socket is not bound to an address", 0);
	if (s->type != SOCK_DGRAM && !s->listening)
		return unusable(s, "stream socket is not listening (Accept=yes connection?)", 0);
	if (s->family == AF_UNIX && !s->addr.abstract && stat(s->addr.path, &st) == 0 &&
	    S_ISSOCK(st.st_mode)) {
		s->path_dev = st.st_dev;
		s->path_ino = st.st_ino;
	}
	s->usable = 1;
	s->why = NULL;
	s->err = 0;
	return 0;
}
