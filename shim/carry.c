/* SPDX-License-Identifier: MIT */
#include "carry.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "fdtab.h"
#include "log.h"
#include "real.h"

/* The defaults of each kind of socket seen so far, learnt under the lock,
 * kept in the arena from the first adoption on (4 KB of the shim's own data
 * would be a page more written by every activated process). */
#define KINDS 8
static struct kind {
	int family, type, protocol, map6;
	struct sda_opt_defaults d;
} *kinds;
static size_t n_kinds;

void sda_carry_note(int fd, int level, int name)
{
	long i;

	if (!(sda_fd_flags(fd) & SDA_FD_TRACKED) || (i = sda_opt_index(level, name)) < 0)
		return;
	sda_fd_opt_set(fd, (unsigned)i);
}

/* Learn from a fresh socket: its options are the kernel's defaults.  A
 * socket that cannot be made leaves `known` empty: nothing is carried. */
static void learn(int family, int type, int protocol, int map6, struct sda_opt_defaults *d)
{
	int scratch = SDA_REAL(socket)(family, type | SOCK_CLOEXEC, protocol);

	memset(d, 0, sizeof(*d));
	if (scratch < 0)
		return;
	if (map6)
		sda_sockopt_learn_map6(scratch, type, d);
	else
		sda_sockopt_learn(scratch, family, type, d);
	SDA_REAL(close)(scratch);
}

static const struct sda_opt_defaults *defaults(int family, int type, int protocol, int map6,
					       struct sda_opt_defaults *spare)
{
	for (size_t i = 0; i < n_kinds; i++)
		if (kinds[i].family == family && kinds[i].type == type &&
		    kinds[i].protocol == protocol && kinds[i].map6 == map6)
			return &kinds[i].d;
	if (!kinds)
		kinds = sda_arena_zalloc(KINDS * sizeof(*kinds));
	if (!kinds || n_kinds == KINDS) {  /* more kinds than that: learn each time */
		learn(family, type, protocol, map6, spare);
		return spare;
	}
	learn(family, type, protocol, map6, &kinds[n_kinds].d);
	if (!kinds[n_kinds].d.known)
		return &kinds[n_kinds].d;  /* not kept: try again next time */
	kinds[n_kinds].family = family;
	kinds[n_kinds].type = type;
	kinds[n_kinds].protocol = protocol;
	kinds[n_kinds].map6 = map6;
	return &kinds[n_kinds++].d;
}

void sda_carry_opts(int app_fd, int family, int type, int protocol, int target_fd, int map6,
		    struct sda_carry *c)
{
	struct sda_opt_defaults spare;
	const struct sda_opt_defaults *d = defaults(family, type, protocol, map6, &spare);
	/* a socket made since activation had every setsockopt() noted; any other
	 * (made before the constructor, received, dup()ed) may have any option */
	uint32_t set = sda_fd_flags(app_fd) & SDA_FD_TRACKED ? sda_fd_opts(app_fd) : ~UINT32_C(0);
	long v6 = sda_opt_index(IPPROTO_IPV6, IPV6_V6ONLY);

	c->v6only_asked = 0;
	if (family == AF_INET6 && v6 >= 0) {
		if (set & (UINT32_C(1) << v6)) {
			socklen_t l = sizeof(c->v6only_asked);

			if (getsockopt(app_fd, IPPROTO_IPV6, IPV6_V6ONLY, &c->v6only_asked, &l) < 0)
				c->v6only_asked = 0;
		} else if (d->known & (UINT32_C(1) << v6)) {
			memcpy(&c->v6only_asked, d->v[v6], sizeof(int));
		}
	}
	c->n = map6 ? sda_sockopt_carry_set_map6(app_fd, d, set, target_fd, type, c->res, SDA_OPTS_MAX) :
		      sda_sockopt_carry_set(app_fd, d, set, target_fd, type, c->res, SDA_OPTS_MAX);
	c->pktinfo6 = 0;
	for (size_t i = 0; map6 && i < c->n && i < SDA_OPTS_MAX; i++)
		if (c->res[i].opt->level == IPPROTO_IPV6 && c->res[i].opt->name == IPV6_RECVPKTINFO)
			c->pktinfo6 = c->res[i].app_value && c->res[i].action >= 0;
}

void sda_carry_log(int fd, const struct sda_carry *c)
{
	size_t n = c->n < SDA_OPTS_MAX ? c->n : SDA_OPTS_MAX;

	for (size_t i = 0; i < n; i++) {
		const struct sda_opt_result *o = &c->res[i];
		const char *opt = o->opt->text;

		if (o->action == 1 && o->as)
			sda_debug("fd %d: carried %s=%ld over to the inherited IPv4 socket as %s", fd,
				  opt, o->app_value, o->as->text);
		else if (o->action == 1)
			sda_debug("fd %d: carried %s=%ld over to the inherited socket", fd, opt,
				  o->app_value);
		else if (o->action == 2)
			sda_warn("fd %d: the program set %s=%ld, the inherited socket has %ld "
				 "(the activator's setting); keeping %ld", fd, opt, o->app_value,
				 o->unit_value, o->unit_value);
		else if (o->action < 0)
			sda_warn("fd %d: cannot carry %s=%ld over to the inherited socket: %s", fd,
				 opt, o->app_value, strerrorname_np(-o->action));
		else if (o->opt->cls == SDA_OPT_IGNORE)
			sda_debug("fd %d: %s only matters to bind(); the inherited socket is bound already",
				  fd, opt);
	}
}
