/* SPDX-License-Identifier: MIT */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "real.h"
#include "registry.h"
#include "sockopt.h"

struct sda_fdtab *_Atomic sda_fdtab;

#define FDTAB_MAX (1u << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sda_env env;              /* names of the inherited fds */
static struct sda_registry reg;         /* entries allocated at init */
static _Atomic int probed;              /* reg filled and indexed */
static int have_unix_paths;
static int *own;                        /* sorted fds we keep open */
static size_t n_own, cap_own;
static _Atomic size_t fd_hi;            /* highest fd ever flagged */
static pid_t act_pid;                   /* the process LISTEN_PID named */
static _Atomic int adopted_any;
static const char *listen_env[4];       /* the original "LISTEN_...=" strings */
static const char *listen_names = "(unset)";
static char **handed_down;             /* the environment exec was given */
static size_t handed_len;
static struct sda_settings settings;
/* adoptions per inherited socket, shared with forked workers: a prefork
 * master that never binds still knows its workers adopted */
static _Atomic unsigned long *adoptions;
_Atomic int sda_report_pending;

void sda_fd_set(int fd, unsigned flags)
{
	struct sda_fdtab *t = atomic_load_explicit(&sda_fdtab, memory_order_acquire);

	if (!t || fd < 0 || (size_t)fd >= t->cap)
		return;
	if (flags) {
		size_t hi = atomic_load_explicit(&fd_hi, memory_order_relaxed);

		while ((size_t)fd > hi &&
		       !atomic_compare_exchange_weak_explicit(&fd_hi, &hi, (size_t)fd,
							      memory_order_relaxed, memory_order_relaxed))
			;
	}
	atomic_store_explicit(&t->f[fd], (unsigned char)flags, memory_order_relaxed);
}

static void own_add(int fd)
{
	size_t i = n_own;

	if (n_own == cap_own)
		return;                  /* cannot happen: sized at init */
	while (i > 0 && own[i - 1] > fd) {
		own[i] = own[i - 1];
		i--;
	}
	own[i] = fd;
	n_own++;
	sda_fd_set(fd, SDA_FD_OWN);
}

static void own_del(int fd)
{
	for (size_t i = 0; i < n_own; i++)
		if (own[i] == fd) {
			memmove(&own[i], &own[i + 1], (n_own - i - 1) * sizeof(*own));
			n_own--;
			sda_fd_set(fd, 0);
			return;
		}
}

/* bind(), close(), dup2() are async-signal-safe: a handler may call them
 * while this thread holds the lock.  So signals wait while it is held. */
static void lock_all(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
	pthread_mutex_lock(&lock);
}

static void unlock_all(const sigset_t *old)
{
	pthread_mutex_unlock(&lock);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

void sda_state_atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

void sda_state_atfork_release(void)
{
	pthread_mutex_unlock(&lock);
}

int sda_state_init(struct sda_env *e, int log_fd, char **environ_)
{
	size_t k = 0;

	struct sda_fdtab *t;
	struct rlimit rl;
	size_t cap = FDTAB_MAX;
	int n = e->n_fds;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < cap)
		cap = rl.rlim_max;
	if (cap < (size_t)n + SDA_LISTEN_FDS_START + 64)
		cap = (size_t)n + SDA_LISTEN_FDS_START + 64;
	/* Untouched pages of this mapping cost no memory. */
	t = mmap(NULL, sizeof(*t) + cap, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED)
		return -errno;
	t->cap = cap;
	if (sda_registry_alloc(&reg, (size_t)n) < 0 ||
	    !(own = calloc((size_t)n + 1, sizeof(*own)))) {
		munmap(t, sizeof(*t) + cap);
		sda_registry_free(&reg);
		return -ENOMEM;
	}
	cap_own = (size_t)n + 1;
	adoptions = mmap(NULL, (size_t)n * sizeof(*adoptions), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (adoptions == MAP_FAILED)          /* then counted per process only */
		adoptions = mmap(NULL, (size_t)n * sizeof(*adoptions), PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (adoptions == MAP_FAILED) {
		adoptions = NULL;
		munmap(t, sizeof(*t) + cap);
		sda_registry_free(&reg);
		free(own);
		own = NULL;
		return -ENOMEM;
	}
	env = *e;
	memset(e, 0, sizeof(*e));
	atomic_store_explicit(&sda_fdtab, t, memory_order_release);

	for (int i = 0; i < n; i++) {
		int fd = SDA_LISTEN_FDS_START + i;

		reg.e[i].fd = fd;
		reg.e[i].name = env.names[i];
		/* as sd_listen_fds(): exec'd children must not inherit them */
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
			/* not open: its number is the program's to use, never ours */
			reg.e[i].why = "not an open file descriptor";
			reg.e[i].err = errno;
			continue;
		}
		own_add(fd);
	}
	if (log_fd >= 0)
		own_add(log_fd);
	act_pid = getpid();
	/* The strings stay where they are after unsetenv(); keep pointers. */
	for (char **p = environ_; p && *p && k < 4; p++) {
		if (strncmp(*p, "LISTEN_FDNAMES=", 15) == 0)
			listen_names = *p + 15;
		else if (strncmp(*p, "LISTEN_PID=", 11) != 0 &&
			 strncmp(*p, "LISTEN_PIDFDID=", 15) != 0 && strncmp(*p, "LISTEN_FDS=", 11) != 0)
			continue;
		listen_env[k++] = *p;
	}
	return 0;
}

/* Call with the lock held. */
static void probe_all(void)
{
	char a[160];

	for (size_t i = 0; i < reg.n; i++) {
		struct sda_sock *s = &reg.e[i];
		const char *name = s->name;
		enum sda_name_kind k = sda_name_kind(name);
		int fd = s->fd;

		if (s->why) {
			/* found closed at start-up: why and err are set already */
		} else if (k == SDA_NAME_STORED || k == SDA_NAME_CONNECTION) {
			s->why = k == SDA_NAME_STORED ?
				"a stored fd (FileDescriptorStoreMax=), not a socket unit's socket" :
				"a connection socket (Accept=yes): only listening sockets can be adopted, use Accept=no";
		} else {
			sda_probe(fd, s);
		}
		if (!s->usable) {
			sda_warn("ignoring inherited fd %d \"%s\": %s%s%s", fd, name, s->why,
				 s->err ? ": " : "", s->err ? strerrorname_np(s->err) : "");
			own_del(fd);
			continue;
		}
		if (s->family == AF_UNIX && !s->addr.abstract)
			have_unix_paths = 1;
		sda_addr_format(&s->addr, a, sizeof(a));
		sda_debug("inherited fd %d \"%s\": %s %s%s%s", fd, name,
			  sda_type_name(s->family, s->type), a,
			  s->family == AF_INET6 && !s->v6only ? " (dual-stack)" : "",
			  s->type != SOCK_DGRAM && s->listening ? ", listening" : "");
	}
	reg.map = &settings.map;
	reg.policy = settings.policy;
	sda_registry_index(&reg);
	for (size_t m = 0; m < settings.map.n; m++)
		if (settings.map.e[m].cand[0] < 0) {
			sda_addr_format(&settings.map.e[m].addr, a, sizeof(a));
			sda_warn("SDADOPT_MAP entry %s=%s: no usable inherited socket is named \"%s\"; "
				 "the entry does nothing", a, settings.map.e[m].name, settings.map.e[m].name);
		}
	atomic_store(&sda_report_pending, 1);
	/* the same address twice can only be served by the first */
	for (size_t k = 1; k < reg.nkeys; k++) {
		const struct sda_sock *p = &reg.e[reg.by_key[k - 1]], *s = &reg.e[reg.by_key[k]];

		if (p->type == s->type && sda_addr_cmp(&p->addr, &s->addr) == 0) {
			sda_addr_format(&s->addr, a, sizeof(a));
			sda_warn("inherited fds %d and %d both serve %s %s; binds get fd %d",
				 p->fd, s->fd, sda_type_name(s->family, s->type), a,
				 p->fd < s->fd ? p->fd : s->fd);
		}
	}
}

static int ensure_probed(void)
{
	sigset_t mask;

	if (!atomic_load_explicit(&sda_fdtab, memory_order_acquire))
		return 0;
	if (atomic_load_explicit(&probed, memory_order_acquire))
		return 1;
	int saved = errno;              /* the probe's failed calls are not the program's */

	lock_all(&mask);
	if (!atomic_load_explicit(&probed, memory_order_relaxed)) {
		probe_all();
		atomic_store_explicit(&probed, 1, memory_order_release);
	}
	unlock_all(&mask);
	errno = saved;
	return 1;
}

static int get_opt(int fd, int opt)
{
	int v = -1;
	socklen_t l = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, opt, &v, &l) < 0 ? -1 : v;
}

static void log_sockopts(int fd, const struct sda_opt_result *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *opt = o[i].opt->text;

		if (o[i].action == 1)
			sda_debug("fd %d: carried %s=%ld over to the inherited socket", fd, opt,
				  o[i].app_value);
		else if (o[i].action == 2)
			sda_warn("fd %d: the program set %s=%ld, the inherited socket has %ld "
				 "(the activator's setting); keeping %ld", fd, opt, o[i].app_value,
				 o[i].unit_value, o[i].unit_value);
		else if (o[i].action < 0)
			sda_warn("fd %d: cannot carry %s=%ld over to the inherited socket: %s", fd,
				 opt, o[i].app_value, strerrorname_np(-o[i].action));
		else if (o[i].opt->cls == SDA_OPT_IGNORE)
			sda_debug("fd %d: %s only matters to bind(); the inherited socket is bound already",
				  fd, opt);
	}
}

void sda_state_configure(struct sda_settings *st)
{
	settings = *st;
	memset(st, 0, sizeof(*st));
}

/* Strict mode: a bind of a port an inherited socket serves, on an address
 * or family that it does not, would bypass activation. */
static int bypass(int fd, const struct sda_addr *want, int type)
{
	char a[160], b[160];
	long i;

	if (!settings.strict || (i = sda_registry_same_port(&reg, want, type)) < 0)
		return 0;
	sda_addr_format(want, a, sizeof(a));
	sda_addr_format(&reg.e[i].addr, b, sizeof(b));
	sda_err("bind(%d, %s) would bypass inherited fd %d \"%s\" (%s %s); failing it with "
		"EADDRINUSE (SDADOPT_STRICT)", fd, a, reg.e[i].fd, reg.e[i].name,
		sda_type_name(reg.e[i].family, reg.e[i].type), b);
	return -EADDRINUSE;
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

/* Nothing was probed: no bind() in this process reached the shim.  Say so
 * in one line, without probing (a program that never binds pays nothing). */
static void report_unprobed(const char *when)
{
	for (size_t i = 0; i < reg.n; i++)
		if (atomic_load(&adoptions[i]))
			return;                  /* forked workers adopted */
	sda_log(settings.strict ? SDA_LOG_ERROR : SDA_LOG_WARNING,
		"none of the %zu inherited fds was adopted %s: the program never bound an "
		"address (LISTEN_FDNAMES=%s)", reg.n, when, listen_names);
}

void sda_report(const char *when)
{
	char a[160];
	int expected = 1;

	if (!atomic_load_explicit(&sda_fdtab, memory_order_acquire) || getpid() != act_pid ||
	    !sda_log_enabled(settings.strict ? SDA_LOG_ERROR : SDA_LOG_WARNING))
		return;
	if (!atomic_load_explicit(&probed, memory_order_acquire)) {
		report_unprobed(when);
		return;
	}
	/* once for "serving"; the exit report always runs */
	if (!atomic_compare_exchange_strong(&sda_report_pending, &expected, 0) &&
	    strcmp(when, "at exit") != 0)
		return;
	for (size_t i = 0; i < reg.n; i++) {
		const struct sda_sock *s = &reg.e[i];

		if (!s->usable || atomic_load(&adoptions[i]))
			continue;
		sda_addr_format(&s->addr, a, sizeof(a));
		sda_log(settings.strict ? SDA_LOG_ERROR : SDA_LOG_WARNING,
			"inherited fd %d \"%s\" (%s %s) was never adopted %s: no bind() asked for "
			"its address (see SDADOPT_MAP, SDADOPT_MATCH=port)", s->fd, s->name,
			sda_type_name(s->family, s->type), a, when);
	}
}

int sda_adopt(int fd, const struct sockaddr *sa, socklen_t len)
{
	sigset_t mask;
	int saved = errno, cloexec, fl, type, r, scratch, xlate, v6only_asked = 0;
	struct sda_opt_result opts[32];
	size_t nopt = 0;
	struct sda_addr want;
	const struct sda_sock *s;
	enum sda_how how;
	char a[160], b[160];
	struct stat st;
	long i;

	if (!ensure_probed())
		return 0;
	/* the common miss, in O(1): no inherited socket or mapping has the port
	 * (sin_port and sin6_port sit at the same offset) */
	if (sa && len >= sizeof(struct sockaddr_in) &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
	    !sda_registry_port_used(&reg, ntohs(((const struct sockaddr_in *)sa)->sin_port)))
		return sda_log_enabled(SDA_LOG_DEBUG) && sda_addr_from_sockaddr(sa, len, &want) == 0 ?
			       miss(fd, &want) : 0;
	if (sda_addr_from_sockaddr(sa, len, &want) < 0)
		return 0;
	i = sda_registry_match(&reg, &want, 0, &how);
	if (i < 0 && !(want.family == AF_UNIX && !want.abstract && have_unix_paths) &&
	    !(settings.strict && sda_registry_same_port(&reg, &want, 0) >= 0))
		return miss(fd, &want);          /* still no system call */

	/* A candidate: now ask the app's socket what it is. */
	type = get_opt(fd, SO_TYPE);
	if (type < 0 || get_opt(fd, SO_DOMAIN) != want.family) {
		errno = saved;
		return 0;                        /* the real bind() reports it */
	}
	i = sda_registry_match(&reg, &want, type, &how);
	if (i < 0 && want.family == AF_UNIX && !want.abstract && have_unix_paths &&
	    stat(want.path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		/* the same socket file under another name (relative path, symlink) */
		i = sda_registry_find_path_inode(&reg, st.st_dev, st.st_ino);
		if (i >= 0 && reg.e[i].type != type)
			i = -1;
		how = SDA_MATCH_EXACT;
	}
	if (i < 0) {
		errno = saved;
		return (r = bypass(fd, &want, type)) ? r : miss(fd, &want);
	}
	s = &reg.e[i];
	if (get_opt(fd, SO_PROTOCOL) != s->protocol) {
		sda_addr_format(&want, a, sizeof(a));
		sda_debug("bind(%d, %s): inherited fd %d has another protocol, binding natively",
			  fd, a, s->fd);
		errno = saved;
		return 0;
	}

	cloexec = fcntl(fd, F_GETFD);
	fl = fcntl(fd, F_GETFL);
	if (want.family == AF_INET6) {
		socklen_t vl = sizeof(v6only_asked);

		if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only_asked, &vl) < 0)
			v6only_asked = 0;
	}
	/* a fresh socket of the app's kind tells which options the app changed */
	scratch = SDA_REAL(socket)(want.family, type | SOCK_CLOEXEC, s->protocol);
	lock_all(&mask);                         /* s->fd may move (dup2 onto it) */
	if (scratch >= 0)
		nopt = sda_sockopt_carry(fd, scratch, s->fd, want.family, type, opts,
					 sizeof(opts) / sizeof(opts[0]));
	r = SDA_REAL(dup3)(s->fd, fd, cloexec > 0 && (cloexec & FD_CLOEXEC) ? O_CLOEXEC : 0);
	if (r >= 0)
		atomic_fetch_add(&adoptions[i], 1);
	if (r >= 0 && fl >= 0) {
		int cur = fcntl(fd, F_GETFL);

		/* O_NONBLOCK lives on the shared file description: set it to what
		 * the app's own socket had. */
		if (cur >= 0 && (cur & O_NONBLOCK) != (fl & O_NONBLOCK))
			(void)fcntl(fd, F_SETFL, (cur & ~O_NONBLOCK) | (fl & O_NONBLOCK));
	}
	unlock_all(&mask);
	if (scratch >= 0)
		SDA_REAL(close)(scratch);
	sda_addr_format(&want, a, sizeof(a));
	if (r < 0) {
		sda_warn("bind(%d, %s): cannot adopt inherited fd %d: dup3: %s; binding natively",
			 fd, a, s->fd, strerrorname_np(errno));
		errno = saved;
		return 0;
	}
	atomic_store(&adopted_any, 1);
	/* an IPv4 app on an IPv6 socket; or an IPV6_V6ONLY [::] bind that got a
	 * dual-stack socket (nginx's "listen [::]" beside "listen 0.0.0.0"),
	 * which accepts IPv4 too: unmap those addresses */
	xlate = (want.family == AF_INET && s->family == AF_INET6) ||
		(want.family == AF_INET6 && s->family == AF_INET6 && !s->v6only && v6only_asked);
	sda_fd_set(fd, SDA_FD_ADOPTED | (xlate ? SDA_FD_XLATE : 0));
	sda_addr_format(&s->addr, b, sizeof(b));
	sda_info("adopted inherited fd %d \"%s\" (%s %s) as fd %d for bind(%s) [%s%s]",
		 s->fd, s->name, sda_type_name(s->family, s->type), b, fd, a,
		 sda_how_name(how), xlate ? ", translating addresses to IPv4" : "");
	log_sockopts(fd, opts, nopt < sizeof(opts) / sizeof(opts[0]) ? nopt : sizeof(opts) / sizeof(opts[0]));
	if (xlate && !(sda_fd_flags(fd) & SDA_FD_XLATE))
		sda_warn("fd %d is beyond the translation table: addresses on it stay IPv6", fd);
	errno = saved;
	return 1;
}

int sda_keeps_backlog(int fd)
{
	struct stat st;
	int saved = errno;
	unsigned f = sda_fd_flags(fd);
	long i;

	if (!(f & SDA_FD_ADOPTED) || !ensure_probed())
		return 0;
	if (fstat(fd, &st) < 0) {
		errno = saved;
		return 0;
	}
	i = sda_registry_find_inode(&reg, st.st_dev, st.st_ino);
	if (i < 0 || !reg.e[i].listening)
		return 0;
	sda_debug("listen(%d): inherited fd %d already listens; keeping its backlog", fd, reg.e[i].fd);
	return 1;
}

static int close_range_real(unsigned lo, unsigned hi, int flags)
{
	int r;

	if (sda_real.close_range) {
		r = sda_real.close_range(lo, hi, flags);
		if (r == 0 || errno != ENOSYS)
			return r;
	}
	if (flags) {
		errno = EINVAL;
		return -1;
	}
	if (hi == ~0U && sda_real.closefrom) {
		sda_real.closefrom((int)lo);
		return 0;
	}
	for (unsigned fd = lo; fd <= hi && fd < (unsigned)sysconf(_SC_OPEN_MAX); fd++)
		(void)SDA_REAL(close)((int)fd);
	return 0;
}

int sda_close_span(unsigned first, unsigned last, int flags)
{
	sigset_t mask;
	struct sda_fdtab *t = atomic_load_explicit(&sda_fdtab, memory_order_acquire);
	unsigned lo = first;
	int r = 0, err = 0;

	if (!t || (flags & CLOSE_RANGE_CLOEXEC) || first > last)
		return close_range_real(first, last, flags);
	lock_all(&mask);
	for (size_t i = 0; i < n_own; i++) {
		unsigned o = (unsigned)own[i];

		if (o < lo)
			continue;
		if (o > last)
			break;
		if (o > lo && close_range_real(lo, o - 1, flags) < 0 && !err)
			err = errno;
		lo = o + 1;
		if (lo == 0)
			break;                   /* o was UINT_MAX */
	}
	if (lo != 0 && lo <= last && close_range_real(lo, last, flags) < 0 && !err)
		err = errno;
	/* forget what the closed fds were */
	for (size_t fd = first, hi = atomic_load(&fd_hi); fd <= last && fd <= hi; fd++)
		if (atomic_load_explicit(&t->f[fd], memory_order_relaxed) & ~SDA_FD_OWN)
			atomic_store_explicit(&t->f[fd], 0, memory_order_relaxed);
	unlock_all(&mask);
	if (err) {
		errno = err;
		r = -1;
	}
	return r;
}

/* Move our own fd `fd` to a free number; call with the lock held. */
static void move_own(int fd)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, SDA_LISTEN_FDS_START);

	if (nfd < 0) {
		sda_warn("cannot move inherited fd %d out of the way of dup2: %s", fd,
			 strerrorname_np(errno));
		return;
	}
	for (size_t i = 0; i < reg.n; i++)
		if (reg.e[i].fd == fd)
			reg.e[i].fd = nfd;
	if (sda_log_fd() == fd)
		sda_log_set_fd(nfd);
	own_del(fd);
	own_add(nfd);
	sda_debug("moved inherited fd %d to %d: the program dup2()s onto it", fd, nfd);
}

void sda_before_dup_onto(int oldfd, int newfd)
{
	sigset_t mask;

	if (oldfd == newfd || !(sda_fd_flags(newfd) & SDA_FD_OWN))
		return;
	int saved = errno;

	lock_all(&mask);
	if (sda_fd_flags(newfd) & SDA_FD_OWN)
		move_own(newfd);
	unlock_all(&mask);
	errno = saved;
}

void sda_after_dup_onto(int oldfd, int newfd)
{
	unsigned f = sda_fd_flags(oldfd) & (SDA_FD_ADOPTED | SDA_FD_XLATE);

	if (f || sda_fd_flags(newfd))
		sda_fd_set(newfd, f);
}

void sda_fd_fresh(int fd, unsigned inherit)
{
	if (inherit || sda_fd_flags(fd))
		sda_fd_set(fd, inherit);
}

int sda_keeps_path(int dirfd, const char *path, int flags)
{
	struct stat st;
	int saved = errno;
	long i;

	if (!path || !ensure_probed() || !have_unix_paths || (flags & AT_REMOVEDIR))
		return 0;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode)) {
		errno = saved;
		return 0;
	}
	i = sda_registry_find_path_inode(&reg, st.st_dev, st.st_ino);
	errno = saved;
	if (i < 0)
		return 0;
	sda_debug("kept %s: it is inherited fd %d's socket path, owned by the activator",
		  path, reg.e[i].fd);
	return 1;
}

void sda_xlate_out(struct sockaddr *app, socklen_t *applen,
		   const struct sockaddr_storage *ss, socklen_t sslen)
{
	struct sockaddr_storage tmp = *ss;
	socklen_t n = sslen;

	sda_addr_unmap_v4((struct sockaddr *)&tmp, &n);
	memcpy(app, &tmp, *applen < n ? *applen : n);
	*applen = n;
}

static int set_cloexec_all(int on)
{
	for (size_t i = 0; i < reg.n; i++)
		if (fcntl(SDA_LISTEN_FDS_START + (int)i, F_SETFD, on ? FD_CLOEXEC : 0) < 0)
			return -1;
	return 0;
}

char *const *sda_exec_env(char *const envp[], const char *what)
{
	sigset_t mask;
	int saved = errno;
	size_t n = 0, k = 0;
	char **out;

	handed_down = NULL;
	if (!atomic_load_explicit(&sda_fdtab, memory_order_acquire) || getpid() != act_pid ||
	    atomic_load(&adopted_any) || !envp)
		return envp;
	lock_all(&mask);
	for (size_t i = 0; i < reg.n; i++)
		if (reg.e[i].fd != SDA_LISTEN_FDS_START + (int)i) {
			unlock_all(&mask);
			return envp;             /* moved: cannot pass them as fds 3.. */
		}
	unlock_all(&mask);
	while (envp[n])
		n++;
	handed_len = (n + 5) * sizeof(char *);
	out = mmap(NULL, handed_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		sda_warn("exec %s: cannot hand the inherited sockets on: mmap: %s", what,
			 strerrorname_np(errno));
		errno = saved;
		return envp;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], "LISTEN_", 7) != 0)
			out[k++] = envp[i];
	for (size_t i = 0; i < 4 && listen_env[i]; i++)
		out[k++] = (char *)listen_env[i];
	out[k] = NULL;
	set_cloexec_all(0);
	handed_down = out;
	sda_debug("exec %s before any bind: handing the %zu inherited fds on unchanged", what, reg.n);
	errno = saved;
	return out;
}

void sda_exec_failed(void)
{
	int saved = errno;

	if (handed_down) {
		set_cloexec_all(1);
		munmap(handed_down, handed_len);
	}
	handed_down = NULL;
	errno = saved;
}
