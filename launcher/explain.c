/* SPDX-License-Identifier: MIT */
/* explain: run COMMAND as a child with SDADOPT_LOG=debug, pass its stderr
 * through, and summarise what the shim (or the seccomp supervisor) saw and
 * did: each inherited socket, each bind(), hints. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct buf {
	char *p;
	size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = ln_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void buf_addf(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* ---- the summary ----------------------------------------------------- */

struct inh {
	int fd;
	char *desc, *addr, *name, *ignored, *never;
	struct buf binds;
};

struct summary {
	struct inh *inh;
	size_t ninh;
	char **binds, **others, **native;
	size_t nbinds, nothers, nnative;
	int lines, strict_refusals;
};

static struct inh *inh_get(struct summary *s, int fd)
{
	for (size_t i = 0; i < s->ninh; i++)
		if (s->inh[i].fd == fd)
			return &s->inh[i];
	s->inh = ln_xrealloc(s->inh, (s->ninh + 1) * sizeof(*s->inh));
	memset(&s->inh[s->ninh], 0, sizeof(*s->inh));
	s->inh[s->ninh].fd = fd;
	return &s->inh[s->ninh++];
}

/* The inherited socket a line names by fd, "name" and "type address" (its
 * adoption, its never-adopted report): described, if not yet, and named. */
static struct inh *inh_named(struct summary *s, const char *fd, const char *name, const char *sock)
{
	struct inh *h = inh_get(s, atoi(fd));

	if (!h->desc || !*h->desc) {
		free(h->desc);
		h->desc = ln_asprintf("fd %s %s: %s", fd, name, sock);
	}
	free(h->name);
	h->name = ln_strdup(name);
	return h;
}

static void push(char ***v, size_t *n, char *x)
{
	*v = ln_xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = x;
}

static char *grp(const char *s, const regmatch_t *m, int i)
{
	if (m[i].rm_so < 0)
		return ln_strdup("");
	return strndup(s + m[i].rm_so, (size_t)(m[i].rm_eo - m[i].rm_so));
}

static void strip_suffix(char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	if (n >= k && !strcmp(s + n - k, suf))
		s[n - k] = '\0';
}

enum {
	RE_LINE,
	RE_INH,
	RE_IGN,
	RE_ADOPT,
	RE_NATIVE,
	RE_NATIVE2,
	RE_STRICT,
	RE_NEVER,
	RE_PORT,
	RE_COUNT
};
static const char *const re_text[RE_COUNT] = {
	"^(<[0-7]>)?(.*)\\[([0-9]+)\\]: sdadopt: (error|warning|info|debug): (.*)$",
	"^inherited fd ([0-9]+) (\".*\"): ([a-z]+) (.*)$",
	"^ignoring inherited fd ([0-9]+) (\".*\"): (.*)$",
	"^adopted inherited fd ([0-9]+) (\"[^\"]*\") \\((.*)\\) as fd ([0-9]+) for bind\\((.*)\\) \\[(.*)\\]$",
	"^bind\\(([0-9]+), (.*)\\): no inherited socket serves it; binding natively$",
	"^bind\\(([0-9]+), (.*)\\): (.*)binding natively$",
	"^bind\\(([0-9]+), (.*)\\) would bypass inherited fd ([0-9]+) (.*); failing",
	"^inherited fd ([0-9]+) (\"[^\"]*\") \\((.*)\\) was never adopted (.*): no bind",
	":([0-9]+)$",
};

static void parse_log(struct summary *s, char *log)
{
	regex_t re[RE_COUNT];
	regmatch_t m[8], g[8];

	for (int i = 0; i < RE_COUNT; i++)
		if (regcomp(&re[i], re_text[i], REG_EXTENDED) != 0)
			ln_die(EX_SOFTWARE_, "internal error: regex %d", i);
	for (char *line = log, *next; line && *line; line = next) {
		char *lvl, *msg, *who;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (regexec(&re[RE_LINE], line, 8, m, 0) != 0)
			continue;
		s->lines++;
		lvl = grp(line, m, 4);
		msg = grp(line, m, 5);
		{
			char *a = grp(line, m, 2), *b = grp(line, m, 3);

			who = ln_asprintf("%s[%s]", a, b);
			free(a);
			free(b);
		}
		if (!strcmp(lvl, "debug") && regexec(&re[RE_INH], msg, 8, g, 0) == 0) {
			char *fd = grp(msg, g, 1), *name = grp(msg, g, 2), *type = grp(msg, g, 3),
			     *rest = grp(msg, g, 4);
			struct inh *h = inh_get(s, atoi(fd));

			free(h->desc);
			h->desc = ln_asprintf("fd %s %s: %s %s", fd, name, type, rest);
			free(h->name);
			h->name = name;
			strip_suffix(rest, ", listening");
			strip_suffix(rest, " (dual-stack)");
			free(h->addr);
			h->addr = rest;
			free(fd);
			free(type);
		} else if (regexec(&re[RE_IGN], msg, 8, g, 0) == 0) {
			char *fd = grp(msg, g, 1), *name = grp(msg, g, 2);
			struct inh *h = inh_get(s, atoi(fd));

			free(h->desc);
			h->desc = ln_asprintf("fd %s %s", fd, name);
			free(h->ignored);
			h->ignored = grp(msg, g, 3);
			free(fd);
			free(name);
		} else if (regexec(&re[RE_ADOPT], msg, 8, g, 0) == 0) {
			char *fd = grp(msg, g, 1), *name = grp(msg, g, 2), *sock = grp(msg, g, 3),
			     *as = grp(msg, g, 4), *bind = grp(msg, g, 5), *how = grp(msg, g, 6), *x;
			struct inh *h = inh_named(s, fd, name, sock);

			if (h->binds.n)
				buf_addf(&h->binds, "; ");
			x = ln_asprintf("bind(%s) by %s [%s]", bind, who, how);
			buf_addf(&h->binds, x);
			free(x);
			push(&s->binds, &s->nbinds,
			     ln_asprintf("bind(%s) in %s -> adopted inherited fd %s %s as fd %s [%s]", bind,
					 who, fd, name, as, how));
			free(fd), free(name), free(sock), free(as), free(bind), free(how);
		} else if (regexec(&re[RE_NATIVE], msg, 8, g, 0) == 0) {
			char *a = grp(msg, g, 2);

			push(&s->binds, &s->nbinds,
			     ln_asprintf("bind(%s) in %s -> bound natively: no inherited socket serves it", a,
					 who));
			push(&s->native, &s->nnative, a);
		} else if (regexec(&re[RE_NATIVE2], msg, 8, g, 0) == 0) {
			char *a = grp(msg, g, 2), *why = grp(msg, g, 3);

			strip_suffix(why, ", ");
			push(&s->binds, &s->nbinds,
			     ln_asprintf("bind(%s) in %s -> bound natively: %s", a, who, why));
			free(a), free(why);
		} else if (regexec(&re[RE_STRICT], msg, 8, g, 0) == 0) {
			char *a = grp(msg, g, 2), *fd = grp(msg, g, 3), *d = grp(msg, g, 4);

			push(&s->binds, &s->nbinds,
			     ln_asprintf("bind(%s) in %s -> failed with EADDRINUSE (strict): inherited fd %s "
					 "%s serves that port",
					 a, who, fd, d));
			s->strict_refusals++;
			free(a), free(fd), free(d);
		} else if (regexec(&re[RE_NEVER], msg, 8, g, 0) == 0) {
			char *fd = grp(msg, g, 1), *name = grp(msg, g, 2), *sock = grp(msg, g, 3),
			     *when = grp(msg, g, 4);
			struct inh *h = inh_named(s, fd, name, sock);

			if (!h->addr || !*h->addr) {
				char *sp = strchr(sock, ' ');

				free(h->addr);
				h->addr = ln_strdup(sp ? sp + 1 : sock);
			}
			{
				char *old = h->never;

				h->never = old ? ln_asprintf("%s, %s", old, when) : ln_strdup(when);
				free(old);
			}
			free(fd), free(name), free(sock), free(when);
		} else if (!strcmp(lvl, "error") || !strcmp(lvl, "warning")) {
			push(&s->others, &s->nothers, ln_asprintf("%s: %s", lvl, msg));
		}
		free(lvl);
		free(msg);
		free(who);
	}
	for (int i = 0; i < RE_COUNT; i++)
		regfree(&re[i]);
}

static int port_of(const char *a, char *port, size_t cap)
{
	const char *c = strrchr(a, ':');
	size_t n;

	if (!c || !c[1])
		return 0;
	n = strlen(c + 1);
	if (n >= cap || strspn(c + 1, "0123456789") != n)
		return 0;
	memcpy(port, c + 1, n + 1);
	return 1;
}

static int cmp_inh(const void *a, const void *b)
{
	return ((const struct inh *)a)->fd - ((const struct inh *)b)->fd;
}

static void summary(const struct target *t, char *log, int status, int listen_failed, int held,
		    enum run_mode mode)
{
	struct summary s;

	memset(&s, 0, sizeof(s));
	parse_log(&s, log);
	ln_say("%s", "");
	ln_say("%s: explain: summary", sda_me);
	if (status > 128)
		ln_say("  %s exited: killed by signal %d (status %d)", t->word, status - 128, status);
	else
		ln_say("  %s exited with status %d", t->word, status);
	if (s.lines == 0 && listen_failed) {
		ln_say("  the --listen sockets could not be created (see the error above); the program "
		       "did not run");
	} else if (s.lines == 0 && mode == MODE_SECCOMP) {
		ln_say("  the supervisor logged nothing: the program was not socket-activated (no");
		ln_say("  LISTEN_FDS and no --listen), or it exited before it bound anything.");
	} else if (s.lines == 0) {
		ln_say("  the shim logged nothing. Either it did not load (see the warnings above:");
		ln_say("  static, Go, setuid), or the program was not socket-activated: no LISTEN_FDS,");
		ln_say("  or LISTEN_PID named another process (a wrapper that forks instead of exec).");
	} else {
		struct inh *sorted = ln_xrealloc(NULL, (s.ninh + 1) * sizeof(*sorted));

		ln_say("  inherited sockets (what the activator passed):");
		if (!s.ninh)
			ln_say("    none seen (the program exited or was killed before its first bind?)");
		memcpy(sorted, s.inh, s.ninh * sizeof(*sorted));
		qsort(sorted, s.ninh, sizeof(*sorted), cmp_inh);
		for (size_t i = 0; i < s.ninh; i++) {
			struct inh *h = &sorted[i];
			const char *d = h->desc ? h->desc : "";

			if (h->ignored && *h->ignored)
				ln_say("    %s -> ignored: %s", d, h->ignored);
			else if (h->binds.n)
				ln_say("    %s -> adopted by %s", d, h->binds.p);
			else if (h->never && *h->never)
				ln_say("    %s -> NEVER ADOPTED (reported %s): no bind() asked for its address",
				       d, h->never);
			else
				ln_say("    %s -> not adopted (yet)", d);
		}
		free(sorted);
		ln_say("  binds:");
		if (!s.nbinds)
			ln_say("    none with an IP or unix address");
		for (size_t i = 0; i < s.nbinds; i++)
			ln_say("    %s", s.binds[i]);
		if (s.nothers) {
			ln_say("  other warnings and errors from the %s:",
			       mode == MODE_SECCOMP ? "supervisor" : "shim");
			for (size_t i = 0; i < s.nothers; i++)
				ln_say("    %s", s.others[i]);
		}
		/* hints: a native bind on the port of a never-adopted inherited socket */
		for (size_t i = 0; i < s.ninh; i++) {
			struct inh *h = &s.inh[i];
			char ip[8], np[8];

			if (h->binds.n || (h->ignored && *h->ignored) || !h->addr ||
			    !port_of(h->addr, ip, sizeof(ip)))
				continue;
			for (size_t j = 0; j < s.nnative; j++) {
				char name[300];
				const char *nm = h->name && *h->name ? h->name : "\"unknown\"";
				size_t l;

				if (!port_of(s.native[j], np, sizeof(np)) || strcmp(np, ip))
					continue;
				snprintf(name, sizeof(name), "%s", nm[0] == '"' ? nm + 1 : nm);
				l = strlen(name);
				if (l && name[l - 1] == '"')
					name[l - 1] = '\0';
				ln_say("  hint: the program bound %s itself while inherited fd %d serves port %s;",
				       s.native[j], h->fd, ip);
				ln_say("        --match port, or --map %s=%s, makes that bind adopt fd %d",
				       s.native[j], name, h->fd);
			}
		}
	}
	if (held)
		ln_say("  note: something still holds the program's stderr (a daemon it started?); "
		       "later lines are not in this summary");
}

/* ---- the run ----------------------------------------------------------- */

static int activated_from_env(void)
{
	const char *p = getenv("LISTEN_PID"), *f = getenv("LISTEN_FDS");
	char self[32];

	snprintf(self, sizeof(self), "%ld", (long)getpid());
	return p && f && !strcmp(p, self) && f[0] >= '1' && f[0] <= '9' &&
	       strspn(f, "0123456789") == strlen(f);
}

static void header(const struct opts *o, const struct target *t, const char *preload,
		   enum run_mode mode, int from_env)
{
	const char *v;

	if (mode == MODE_SECCOMP) {
		ln_say("%s: explain: running %s in seccomp mode (sdadopt stays its parent and answers its "
		       "bind() calls)",
		       sda_me, t->path);
	} else {
		ln_say("%s: explain: running %s with SDADOPT_LOG=debug", sda_me, t->path);
		ln_say("%s: explain: LD_PRELOAD=%s", sda_me, preload);
	}
	if (o->nmap) {
		char *m = ln_join(o->map, o->nmap, ",");

		ln_say("%s: explain: SDADOPT_MAP=%s", sda_me, m);
		free(m);
	} else if ((v = getenv("SDADOPT_MAP")) && *v) {
		ln_say("%s: explain: SDADOPT_MAP=%s", sda_me, v);
	}
	v = o->match && *o->match ? o->match : getenv("SDADOPT_MATCH");
	if (v && *v)
		ln_say("%s: explain: SDADOPT_MATCH=%s", sda_me, v);
	v = o->strict ? "1" : getenv("SDADOPT_STRICT");
	if (v && *v)
		ln_say("%s: explain: SDADOPT_STRICT=%s", sda_me, v);
	if (o->nlisten) {
		char *l = ln_join(o->listen, o->nlisten, " ");

		ln_say("%s: explain: sockets from --listen (%s): %s", sda_me,
		       o->activator == ACT_SSA ? "ssa" : "builtin", l);
		free(l);
		if (o->activator == ACT_SSA)
			ln_say("%s: explain: systemd-socket-activate waits for the first connection before it "
			       "starts the program",
			       sda_me);
	} else if (from_env) {
		const char *names = getenv("LISTEN_FDNAMES");

		ln_say("%s: explain: LISTEN_FDS=%s LISTEN_FDNAMES=%s from the activator", sda_me,
		       getenv("LISTEN_FDS"), names ? names : "(unset)");
	} else {
		ln_say("%s: explain: no --listen and no LISTEN_FDS for this process: nothing will be "
		       "inherited, %s",
		       sda_me, mode == MODE_SECCOMP ? "no bind is answered" : "the shim stays inert");
	}
}

/* The run: the program's stderr passed through and kept for the summary;
 * --run-for's SIGTERM, then SIGKILL; after the exit, its stderr read until
 * EOF (a daemon it started may hold it: then for a second at most). */
struct run {
	struct buf log;
	int eof;
	double stop_at, kill_at, drain_until;
};

static void on_stderr(struct ln_supervise *sv, short revents)
{
	struct run *r = sv->ctx;
	char b[4096];
	ssize_t n;

	(void)revents;
	n = read(sv->fd, b, sizeof(b));
	if (n > 0) {
		ssize_t w = 0;

		while (w < n) {
			ssize_t k = write(2, b + w, (size_t)(n - w));

			if (k <= 0)
				break;
			w += k;
		}
		buf_add(&r->log, b, (size_t)n);
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		r->eof = 1;
		sv->fd = -1;
	}
}

static int run_timers(struct ln_supervise *sv, int *timeout)
{
	struct run *r = sv->ctx;
	double t0 = now_s(), next = -1;

	if (sv->exited && r->drain_until < 0) {
		r->drain_until = t0 + 1.0;
		r->stop_at = r->kill_at = -1;
	}
	if (sv->exited && (r->eof || t0 >= r->drain_until))
		return 1;
	if (!sv->exited && r->stop_at >= 0 && t0 >= r->stop_at) {
		kill(sv->child, SIGTERM);
		r->stop_at = -1;
		r->kill_at = t0 + 5;
	}
	if (!sv->exited && r->kill_at >= 0 && t0 >= r->kill_at) {
		kill(sv->child, SIGKILL);
		r->kill_at = -1;
	}
	if (r->stop_at >= 0)
		next = r->stop_at;
	if (r->kill_at >= 0 && (next < 0 || r->kill_at < next))
		next = r->kill_at;
	if (r->drain_until >= 0 && (next < 0 || r->drain_until < next))
		next = r->drain_until;
	if (next >= 0)
		*timeout = next <= t0 ? 0 : (int)((next - t0) * 1000) + 1;
	return 0;
}

/* SIGINT: the terminal sends it to the program too */
static int forwards(const struct signalfd_siginfo *si)
{
	return si->ssi_signo != SIGINT;
}

static const int explain_signals[] = {SIGTERM, SIGHUP, SIGINT, 0};

void ln_explain(const struct opts *o, const struct target *t, const char *preload, enum run_mode mode)
{
	int from_env = activated_from_env(), p[2], status, listen_failed;
	struct run r = {.stop_at = -1, .kill_at = -1, .drain_until = -1};
	struct ln_supervise sv = {.signals = explain_signals,
				  .forwards = forwards,
				  .on_fd = on_stderr,
				  .before_wait = run_timers,
				  .ctx = &r};

	header(o, t, preload, mode, from_env);
	if (pipe2(p, O_CLOEXEC) < 0)
		ln_die(EX_OSERR_, "pipe: %s", strerror(errno));
	if (ln_supervise_fork(&sv) == 0) {
		dup2(p[1], 2);
		if (from_env) {
			char buf[32];

			/* systemd's LISTEN_PID names the launcher; the program (or
			 * the supervisor) is our child */
			snprintf(buf, sizeof(buf), "%ld", (long)getpid());
			setenv("LISTEN_PID", buf, 1);
		}
		if (mode == MODE_SECCOMP) {
			/* the supervisor's lines go to the same pipe */
			if (o->nlisten && o->activator == ACT_SSA)
				ln_exec_ssa_self(o, t, 1);
			exit(ln_seccomp_run(o, t, 2, 1));
		}
		ln_export_settings(o);
		if (o->nlisten && o->activator == ACT_SSA)
			ln_exec_ssa(o, t, preload);
		if (o->nlisten) {
			struct listened l;

			ln_listen_sockets(o, &l);
			ln_set_listen_env(&l, getpid());
		}
		setenv("LD_PRELOAD", preload, 1);
		ln_exec(t, o->argv);
	}
	close(p[1]);
	sv.fd = p[0];
	if (o->run_for)
		r.stop_at = now_s() + o->run_for_s;
	status = ln_supervise_run(&sv);
	if (!r.log.p)
		buf_add(&r.log, "", 0);
	listen_failed = o->nlisten && status == EX_OSERR_;
	summary(t, r.log.p, status, listen_failed, !r.eof, mode);
	exit(status);
}
