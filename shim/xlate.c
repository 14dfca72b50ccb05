/* SPDX-License-Identifier: MIT */
#include "xlate.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "fdtab.h"
#include "map6.h"
#include "real.h"

void sda_xlate_out(unsigned f, struct sockaddr *app, socklen_t *applen,
		   const struct sockaddr_storage *ss, socklen_t sslen)
{
	struct sockaddr_storage tmp = *ss;
	socklen_t n = sslen;

	if (f & SDA_FD_MAP6)
		sda_addr_map_v6((struct sockaddr *)&tmp, &n);
	else
		sda_addr_unmap_v4((struct sockaddr *)&tmp, &n);
	memcpy(app, &tmp, *applen < n ? *applen : n);
	*applen = n;
}

int sda_map6_dest(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *tmp)
{
	return sda_addr_unmap_dest(sa, len, tmp);
}

static int fail(int e)
{
	errno = e;
	return -1;
}

/* The flag bits of fd, with `bit` set to on (a read-modify-write of this
 * fd's byte: only the program's own calls on that fd race it). */
static void set_bit(int fd, unsigned bit, int on)
{
	unsigned f = sda_fd_flags(fd);

	sda_fd_set(fd, on ? f | bit : f & ~bit);
}

int sda_map6_setsockopt(int fd, int name, const void *val, socklen_t len)
{
	const struct sda_map6_opt *o = sda_map6_opt_find(name);
	int v, r;
	long v4;

	if (!o)
		return SDA_REAL(setsockopt)(fd, IPPROTO_IPV6, name, val, len);
	if (len < sizeof(int))
		return fail(EINVAL);                 /* every one takes an int */
	if (!val)
		return fail(EFAULT);
	memcpy(&v, val, sizeof(v));
	if ((v4 = sda_map6_value(o, v)) < 0)
		return fail((int)-v4);
	switch (o->act) {
	case SDA_MAP6_TWIN:
		v = (int)v4;
		return SDA_REAL(setsockopt)(fd, IPPROTO_IP, o->v4name, &v, sizeof(v));
	case SDA_MAP6_PKTINFO:
		v = !!v;
		if ((r = SDA_REAL(setsockopt)(fd, IPPROTO_IP, o->v4name, &v, sizeof(v))) == 0)
			set_bit(fd, SDA_FD_PKTINFO6, v);
		return r;
	case SDA_MAP6_V6ONLY:
	case SDA_MAP6_NOOP:
		break;
	}
	return 0;
}

int sda_map6_getsockopt(int fd, int name, void *val, socklen_t *len)
{
	const struct sda_map6_opt *o = sda_map6_opt_find(name);
	int v = 0, saved = errno;
	socklen_t l = sizeof(v), n;

	if (!o)
		return SDA_REAL(getsockopt)(fd, IPPROTO_IPV6, name, val, len);
	if (!len || !val)
		return fail(EFAULT);
	if ((int)*len < 0)
		return fail(EINVAL);
	switch (o->act) {
	case SDA_MAP6_TWIN:
		if (SDA_REAL(getsockopt)(fd, IPPROTO_IP, o->v4name, &v, &l) < 0)
			return -1;
		break;
	case SDA_MAP6_PKTINFO:
		v = !!(sda_fd_flags(fd) & SDA_FD_PKTINFO6);
		break;
	case SDA_MAP6_V6ONLY:
	case SDA_MAP6_NOOP:
		break;
	}
	/* as an IPv6 int option: as many bytes as asked, up to an int */
	n = *len < sizeof(v) ? *len : sizeof(v);
	memcpy(val, &v, n);
	*len = n;
	errno = saved;
	return 0;
}

#define CTL_MAX 1024    /* control data on the stack (more than a datagram brings) */

ssize_t sda_map6_recvmsg(int fd, unsigned f, struct msghdr *msg, int flags)
{
	struct sockaddr_storage ss;
	union {
		struct cmsghdr align;
		unsigned char b[CTL_MAX];
	} ctl;
	void *name = msg->msg_name, *app_ctl = msg->msg_control;
	socklen_t applen = msg->msg_namelen;
	size_t ctlcap = msg->msg_controllen;
	int pktinfo = (f & SDA_FD_PKTINFO6) && app_ctl && ctlcap;
	ssize_t r;

	if (name) {
		msg->msg_name = &ss;
		msg->msg_namelen = sizeof(ss);
	}
	/* the kernel writes IP_PKTINFO into a buffer of ours, with room to spare;
	 * the program gets IPV6_PKTINFO, cut to its own length as the kernel would */
	if (pktinfo) {
		msg->msg_control = ctl.b;
		msg->msg_controllen = sizeof(ctl.b);
	}
	r = SDA_REAL(recvmsg)(fd, msg, flags);
	if (name) {
		if (r >= 0)
			sda_xlate_out(f, name, &applen, &ss, msg->msg_namelen);
		msg->msg_name = name;
		msg->msg_namelen = applen;
	}
	if (pktinfo) {
		msg->msg_control = app_ctl;
		if (r >= 0)
			msg->msg_controllen = sda_map6_cmsg_recv(ctl.b, msg->msg_controllen, app_ctl,
								 ctlcap, &msg->msg_flags);
		else
			msg->msg_controllen = ctlcap;
	}
	return r;
}

ssize_t sda_map6_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m = *msg;
	struct sockaddr_in to;
	union {
		struct cmsghdr align;
		unsigned char b[CTL_MAX];
	} ctl;

	if (sda_map6_dest(msg->msg_name, msg->msg_namelen, &to)) {
		m.msg_name = &to;
		m.msg_namelen = sizeof(to);
	}
	if (msg->msg_control && msg->msg_controllen) {
		long n = sda_map6_cmsg_send(msg->msg_control, msg->msg_controllen, ctl.b, sizeof(ctl.b));

		if (n == -EINVAL) {
			errno = EINVAL;
			return -1;
		}
		if (n > 0) {
			m.msg_control = ctl.b;
			m.msg_controllen = (size_t)n;
		}
	}
	return SDA_REAL(sendmsg)(fd, &m, flags);
}
