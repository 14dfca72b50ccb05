/* SPDX-License-Identifier: MIT */
#include "sockopt.h"
#include "map6.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define I sizeof(int)
#define L sizeof(struct linger)

const struct sda_opt sda_opts[] = {
	/* what the app wants of connections: carried onto the listener, whose
	 * accepted sockets inherit it */
	{ SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", SDA_OPT_REPLAY, I, 0, 0, 0, 0 },
	{ SOL_SOCKET, SO_LINGER, "SO_LINGER", SDA_OPT_REPLAY, L, 0, 0, 0, 0 },
	{ SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", SDA_OPT_REPLAY, I, 0, 0, 0, 0 },
	{ SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", SDA_OPT_REPLAY, I, 0, 0, 0, 0 },
	{ SOL_SOCKET, SO_TIMESTAMP, "SO_TIMESTAMP", SDA_OPT_REPLAY, I, 0, 0, 0, 0 },
	{ SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED", SDA_OPT_REPLAY, I, 0, 0, 0, 0 },
	{ IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", SDA_OPT_REPLAY, I, 1, 0, 1, 0 },
	{ IPPROTO_IP, IP_TOS, "IP_TOS", SDA_OPT_REPLAY, I, 1, AF_INET, 0, 0 },
	{ IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO", SDA_OPT_REPLAY, I, 1, AF_INET, 0, 0 },
	{ IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS", SDA_OPT_REPLAY, I, 1, AF_INET, 0, 0 },
	{ IPPROTO_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER", SDA_OPT_REPLAY, I, 1, AF_INET, 0, 0 },
	{ IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS", SDA_OPT_REPLAY, I, 1, AF_INET6, 0, 0 },
	{ IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", SDA_OPT_REPLAY, I, 1, AF_INET6, 0, 0 },
	{ IPPROTO_IPV6, IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER", SDA_OPT_REPLAY, I, 1, AF_INET6, 0, 0 },
	/* only about how bind() picks the address: it is bound already */
	{ SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", SDA_OPT_IGNORE, I, 0, 0, 0, 0 },
	{ SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", SDA_OPT_IGNORE, I, 0, 0, 0, 0 },
	{ IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND", SDA_OPT_IGNORE, I, 1, AF_INET, 0, 0 },
	{ IPPROTO_IP, IP_TRANSPARENT, "IP_TRANSPARENT", SDA_OPT_IGNORE, I, 1, AF_INET, 0, 0 },
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, "IP_BIND_ADDRESS_NO_PORT", SDA_OPT_IGNORE, I, 1, AF_INET, 0, 0 },
	/* what the unit (ReceiveBuffer=, SendBuffer=, BindIPv6Only=, Mark=,
	 * BindToDevice=) decides for the socket it owns */
	{ SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", SDA_OPT_UNIT, I, 0, 0, 0, 1 },
	{ SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", SDA_OPT_UNIT, I, 0, 0, 0, 1 },
	{ SOL_SOCKET, SO_MARK, "SO_MARK", SDA_OPT_UNIT, I, 0, 0, 0, 0 },
	{ IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", SDA_OPT_FIXED, I, 1, AF_INET6, 0, 0 },
};
const size_t sda_n_opts = sizeof(sda_opts) / sizeof(sda_opts[0]);

const char *sda_opt_class_name(enum sda_opt_class c)
{
	switch (c) {
	case SDA_OPT_REPLAY: return "replay";
	case SDA_OPT_IGNORE: return "ignore";
	case SDA_OPT_UNIT: return "unit";
	case SDA_OPT_FIXED: return "fixed";
	}
	return "?";
}

_Static_assert(sizeof(sda_opts) / sizeof(sda_opts[0]) <= SDA_OPTS_MAX,
	       "a mask of the table's options must fit 32 bits");

long sda_opt_index(int level, int name)
{
	for (size_t i = 0; i < sda_n_opts; i++)
		if (sda_opts[i].level == level && sda_opts[i].name == name)
			return (long)i;
	return -ENOENT;
}

/* map6: an AF_INET6 app socket whose IPv4-level options count too */
static int applies(const struct sda_opt *o, int family, int type, int map6)
{
	int inet = family == AF_INET || family == AF_INET6;

	return !((o->inet_only && !inet) ||
		 (o->family && o->family != family && !(map6 && o->family == AF_INET)) ||
		 (o->stream_only && type != SOCK_STREAM));
}

static int get(int fd, const struct sda_opt *o, unsigned char *v)
{
	socklen_t l = o->len;

	memset(v, 0, SDA_OPT_VALUE_MAX);
	return getsockopt(fd, o->level, o->name, v, &l) < 0 ? -errno : 0;
}

static void learn(int scratch_fd, int family, int type, int map6, struct sda_opt_defaults *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < sda_n_opts; i++)
		if (applies(&sda_opts[i], family, type, map6) &&
		    get(scratch_fd, &sda_opts[i], d->v[i]) == 0)
			d->known |= UINT32_C(1) << i;
}

void sda_sockopt_learn(int scratch_fd, int family, int type, struct sda_opt_defaults *d)
{
	learn(scratch_fd, family, type, 0, d);
}

void sda_sockopt_learn_map6(int scratch_fd, int type, struct sda_opt_defaults *d)
{
	learn(scratch_fd, AF_INET6, type, 1, d);
}

/* The option to set on an inherited IPv4 socket for an IPv6-level one of
 * the app's, or NULL (none: leave it out). */
static const struct sda_opt *twin(const struct sda_opt *o)
{
	const struct sda_map6_opt *m = sda_map6_opt_find(o->name);
	long k;

	if (o->level != IPPROTO_IPV6)
		return o;
	if (!m || m->v4name < 0 || (k = sda_opt_index(IPPROTO_IP, m->v4name)) < 0)
		return NULL;
	return &sda_opts[k];
}

static long first_int(const unsigned char *v)
{
	int x;

	memcpy(&x, v, sizeof(x));
	return x;
}

static size_t carry(int app_fd, const struct sda_opt_defaults *d, uint32_t set, int target_fd,
		    int map6, struct sda_opt_result *res, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < sda_n_opts; i++) {
		const struct sda_opt *o = &sda_opts[i], *t = map6 ? twin(o) : o;
		unsigned char app[SDA_OPT_VALUE_MAX], unit[SDA_OPT_VALUE_MAX];
		const unsigned char *def = d->v[i];
		struct sda_opt_result r = { o, t != o ? t : NULL, 0, 0, 0 };

		if (!(set & d->known & (UINT32_C(1) << i)) || !t)
			continue;                 /* not set, or not on this kind of socket */
		if (get(app_fd, o, app) < 0 || memcmp(app, def, o->len) == 0)
			continue;                 /* not changed by the app */
		r.app_value = first_int(app);
		if (o->cls == SDA_OPT_IGNORE) {
			r.action = 0;             /* nothing to read on the target */
			r.unit_value = r.app_value;
			goto out;
		}
		if (get(target_fd, t, unit) < 0 || memcmp(app, unit, o->len) == 0)
			r.action = 0;
		else if (o->cls == SDA_OPT_FIXED ||
			 (o->cls == SDA_OPT_UNIT && memcmp(unit, def, o->len) != 0))
			r.action = 2;
		else {
			if (o->doubled) {          /* read back doubled: set half */
				int v;

				memcpy(&v, app, sizeof(v));
				v /= 2;
				memcpy(app, &v, sizeof(v));
			}
			r.action = setsockopt(target_fd, t->level, t->name, app, o->len) < 0 ? -errno : 1;
		}
		r.unit_value = first_int(unit);
out:
		if (n < cap)
			res[n] = r;
		n++;
	}
	return n;
}

size_t sda_sockopt_carry_set(int app_fd, const struct sda_opt_defaults *d, uint32_t set,
			     int target_fd, int type, struct sda_opt_result *res, size_t cap)
{
	(void)type;
	return carry(app_fd, d, set, target_fd, 0, res, cap);
}

size_t sda_sockopt_carry_set_map6(int app_fd, const struct sda_opt_defaults *d, uint32_t set,
				  int target_fd, int type, struct sda_opt_result *res, size_t cap)
{
	(void)type;
	return carry(app_fd, d, set, target_fd, 1, res, cap);
}

size_t sda_sockopt_carry(int app_fd, int scratch_fd, int target_fd, int family, int type,
			 struct sda_opt_result *res, size_t cap)
{
	struct sda_opt_defaults d;

	sda_sockopt_learn(scratch_fd, family, type, &d);
	return sda_sockopt_carry_set(app_fd, &d, ~UINT32_C(0), target_fd, type, res, cap);
}

size_t sda_sockopt_carry_map6(int app_fd, int scratch_fd, int target_fd, int type,
			      struct sda_opt_result *res, size_t cap)
{
	struct sda_opt_defaults d;

	sda_sockopt_learn_map6(scratch_fd, type, &d);
	return sda_sockopt_carry_set_map6(app_fd, &d, ~UINT32_C(0), target_fd, type, res, cap);
}
