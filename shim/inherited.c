/* SPDX-License-Identifier: MIT */
#include "inherited.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addr.h"
#include "arena.h"
#include "fdtab.h"
#include "sys.h"
#include "lock.h"
#include "log.h"
#include "protect.h"
#include "report.h"
#include "startcode.h"

#define FDTAB_MAX (1u << 20)

struct sda_inherited sda_inh = { .listen_names = "(unset)" };
static _Atomic int probed;              /* reg filled and indexed */

int sda_probe_done(void)
{
	return atomic_load_explicit(&probed, memory_order_acquire);
}

/* As sd_listen_fds(): exec'd children must not inherit the sockets.  A
 * number that is not open is the program's to use, never ours.  Two system
 * calls for all of them (poll() tells which are open, close_range() sets
 * close-on-exec on the range); one fcntl() each where that is no more, or
 * where close_range() cannot. */
SDA_STARTUP static void cloexec_all(int *fds, size_t n)
{
	struct pollfd p[256];
	int per_fd = n <= 2 ||
		     sda_sys_close_range(SDA_LISTEN_FDS_START, SDA_LISTEN_FDS_START + (unsigned)n - 1,
					 CLOSE_RANGE_CLOEXEC) < 0;

	for (size_t i = 0; i < n; i += 256) {
		size_t k = n - i < 256 ? n - i : 256;

		for (size_t j = 0; j < k; j++)
			p[j] = (struct pollfd){ .fd = fds[i + j], .events = 0 };
		if (per_fd || sda_sys_poll_now(p, k) < 0) {
			for (size_t j = 0; j < k; j++) {
				int r = sda_sys_fcntl(fds[i + j], F_SETFD, FD_CLOEXEC);

				if (r < 0)
					fds[i + j] = r;
			}
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (p[j].revents & POLLNVAL)
				fds[i + j] = -EBADF;
	}
}

SDA_STARTUP int sda_inherited_init(struct sda_env *e, const struct sda_start *st)
{
	struct sda_inherited *h = &sda_inh;
	size_t cap = FDTAB_MAX, n = (size_t)e->n_fds;

	if (st->nofile_max != RLIM_INFINITY && st->nofile_max < cap)
		cap = st->nofile_max;
	if (cap < n + SDA_LISTEN_FDS_START + 64)
		cap = n + SDA_LISTEN_FDS_START + 64;
	/* only what is written now: the own list and where each socket is,
	 * beside the parsed names (a few allocations, in the shim's own data
	 * while they fit: arena.c); the registry and the adoption counts wait
	 * for the probe */
	if (sda_protect_init(n + 1) < 0 || !(h->fds = sda_arena_zalloc(n * sizeof(*h->fds))))
		return -ENOMEM;
	h->env = *e;
	h->n = n;
	memset(e, 0, sizeof(*e));
	sda_fdtab_start(cap);

	for (size_t i = 0; i < n; i++)
		h->fds[i] = SDA_LISTEN_FDS_START + (int)i;
	cloexec_all(h->fds, n);
	for (size_t i = 0; i < n; i++)
		if (h->fds[i] >= 0)
			sda_own_add(h->fds[i]);
	if (st->log_fd >= 0)
		sda_own_add(st->log_fd);
	h->act_pid = st->self;
	for (size_t k = 0; k < 4; k++)
		h->listen_env[k] = st->listen_env[k];
	if (st->listen_fdnames)
		h->listen_names = st->listen_fdnames;
	return 0;
}

void sda_inherited_before_fork(void)
{
	struct sda_inherited *h = &sda_inh;
	size_t len = h->n * sizeof(*h->adoptions);
	_Atomic unsigned long *p, *own = atomic_load(&h->adoptions);

	if (h->counts_shared || !len)
		return;
	h->counts_shared = 1;           /* tried once: on failure counted per process */
	p = sda_sys_mmap(len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
	if (p == MAP_FAILED)
		return;
	/* only a written count makes its page resident (report.c) */
	for (size_t i = 0; own && i < h->n; i++) {
		unsigned long v = atomic_load(&own[i]);

		if (v)
			atomic_store(&p[i], v);
	}
	atomic_store(&h->adoptions, p);
}

SDA_STARTUP void sda_inherited_configure(struct sda_settings *st)
{
	sda_inh.settings = *st;
	memset(st, 0, sizeof(*st));
}

/* Call with the lock held.  Each kind of per-socket line is a bounded run. */
static void probe_all(void)
{
	struct sda_inherited *h = &sda_inh;
	struct sda_registry *reg = &h->reg;
	struct sda_log_run ignored = { 0 }, seen = { 0 }, unnamed = { 0 }, twice = { 0 };
	char a[160];

	/* the registry, and the counts unless a fork made them already */
	if (sda_registry_alloc_with(reg, h->n, sda_arena_zalloc) < 0 ||
	    (!atomic_load(&h->adoptions) &&
	     !(h->adoptions = sda_arena_zalloc(h->n * sizeof(*h->adoptions))))) {
		sda_registry_free(reg);
		sda_err("cannot set up the registry: %s; not adopting anything", strerrorname_np(ENOMEM));
	}
	for (size_t i = 0; i < reg->n; i++) {
		struct sda_sock *s = &reg->e[i];
		const char *name = h->env.names[i];
		enum sda_name_kind k = sda_name_kind(name);
		int fd = h->fds[i], no = sda_inherited_no(s);

		s->name = name;
		s->fd = fd >= 0 ? fd : no;
		if (fd < 0) {
			s->why = "not an open file descriptor";   /* found so at start-up */
			s->err = -fd;
		} else if (k == SDA_NAME_STORED || k == SDA_NAME_CONNECTION) {
			s->why = k == SDA_NAME_STORED ?
				"a stored fd (FileDescriptorStoreMax=), not a socket unit's socket" :
				"a connection socket (Accept=yes): only listening sockets can be adopted, use Accept=no";
		} else {
			sda_probe(fd, s);
		}
		if (!s->usable) {
			if (sda_log_run_next(&ignored, no))
				sda_warn("ignoring inherited fd %d \"%s\": %s%s%s", no, name, s->why,
					 s->err ? ": " : "", s->err ? strerrorname_np(s->err) : "");
			if (fd >= 0)
				sda_own_del(fd);
			continue;
		}
		if (s->family == AF_UNIX && !s->addr.abstract)
			h->have_unix_paths = 1;
		if (sda_log_enabled(SDA_LOG_DEBUG) && sda_log_run_next(&seen, no)) {
			sda_addr_format(&s->addr, a, sizeof(a));
			sda_debug("inherited fd %d \"%s\": %s %s%s%s", no, name,
				  sda_type_name(s->family, s->type), a,
				  s->family == AF_INET6 && !s->v6only ? " (dual-stack)" : "",
				  s->type != SOCK_DGRAM && s->listening ? ", listening" : "");
		}
	}
	sda_log_run_end(&ignored, SDA_LOG_WARNING, "inherited fds ignored", NULL);
	sda_log_run_end(&seen, SDA_LOG_DEBUG, "inherited fds", NULL);
	reg->map = &h->settings.map;
	reg->policy = h->settings.policy;
	sda_registry_index(reg);
	for (size_t m = 0; m < h->settings.map.n; m++)
		if (h->settings.map.e[m].cand[0] < 0 && sda_log_run_next(&unnamed, -1)) {
			sda_addr_format(&h->settings.map.e[m].addr, a, sizeof(a));
			sda_warn("SDADOPT_MAP entry %s=%s: no usable inherited socket is named \"%s\"; "
				 "the entry does nothing", a, h->settings.map.e[m].name,
				 h->settings.map.e[m].name);
		}
	sda_log_run_end(&unnamed, SDA_LOG_WARNING, "SDADOPT_MAP entries that name no inherited socket", NULL);
	sda_report_arm();
	/* the same address twice can only be served by the first */
	for (size_t k = 1; k < reg->nkeys; k++) {
		const struct sda_sock *p = &reg->e[reg->by_key[k - 1]], *s = &reg->e[reg->by_key[k]];

		if (p->type == s->type && sda_addr_cmp(&p->addr, &s->addr) == 0 &&
		    sda_log_run_next(&twice, sda_inherited_no(s))) {
			sda_addr_format(&s->addr, a, sizeof(a));
			sda_warn("inherited fds %d and %d both serve %s %s; binds get fd %d",
				 sda_inherited_no(p), sda_inherited_no(s), sda_type_name(s->family, s->type), a,
				 sda_inherited_no(p) < sda_inherited_no(s) ? sda_inherited_no(p) : sda_inherited_no(s));
		}
	}
	sda_log_run_end(&twice, SDA_LOG_WARNING, "inherited fds that serve an address another one serves", NULL);
}

int sda_probed(void)
{
	sigset_t mask;

	if (!sda_activated())
		return 0;
	if (atomic_load_explicit(&probed, memory_order_acquire))
		return 1;
	int saved = errno;              /* the probe's failed calls are not the program's */

	sda_lock(&mask);
	if (!atomic_load_explicit(&probed, memory_order_relaxed)) {
		probe_all();
		atomic_store_explicit(&probed, 1, memory_order_release);
	}
	sda_unlock(&mask);
	errno = saved;
	return 1;
}
