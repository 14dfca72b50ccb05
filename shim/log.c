/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "env.h"
#include "fork.h"
#include "sys.h"
#include "startcode.h"

static enum sda_level log_level = SDA_LOG_OFF;
/* copied at start: programs rewrite argv[0] for their process title */
static char prog[32];
static int log_fd = -1;
static int log_journal;
static int log_sock;                /* the sink is a socket: send(MSG_DONTWAIT) */
static _Atomic unsigned long dropped;

SDA_STARTUP int sda_log_fd(void)
{
	return log_fd;
}

SDA_STARTUP void sda_log_set_fd(int fd)
{
	log_fd = fd;
}

SDA_STARTUP int sda_log_enabled(enum sda_level level)
{
	return log_fd >= 0 && level <= log_level && level != SDA_LOG_OFF;
}

/* What stderr is: one statx() (fstat() where the kernel has none). */
struct sink {
	mode_t type;                /* S_IFMT bits, 0 if not known */
	uint64_t dev, ino;
};

SDA_STARTUP static void stat_stderr(struct sink *k)
{
	struct statx sx;
	struct stat st;

	*k = (struct sink){ 0 };
	if (sda_sys(SYS_statx, 2, (long)"", AT_EMPTY_PATH, STATX_TYPE | STATX_INO, (long)&sx, 0) == 0) {
		*k = (struct sink){ sx.stx_mode & S_IFMT, makedev(sx.stx_dev_major, sx.stx_dev_minor),
				    sx.stx_ino };
		return;
	}
	int saved = errno;          /* a rare path: libc is fine */

	if (fstat(2, &st) == 0)
		*k = (struct sink){ st.st_mode & S_IFMT, (uint64_t)st.st_dev, (uint64_t)st.st_ino };
	errno = saved;
}

/* A decimal number ending at `end` (a character not a digit); 0 or -1. */
SDA_STARTUP static int number(const char **p, char end, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != end)
		return -1;
	*p = s + 1;
	return 0;
}

/* JOURNAL_STREAM is "DEV:INODE" of the stream the journal gave us. */
SDA_STARTUP static int stderr_is_journal(const char *js, const struct sink *k)
{
	uint64_t dev, ino;

	if (!js || !k->type || number(&js, ':', &dev) < 0 || number(&js, '\0', &ino) < 0)
		return 0;
	return k->dev == dev && k->ino == ino;
}

/* A pipe is opened anew through /proc: a file description of our own, made
 * non-blocking without touching the program's stderr.  A socket (the
 * journal) takes MSG_DONTWAIT per call.  Anything else (a file, a tty,
 * /dev/null) does not block for long: a plain dup. */
SDA_STARTUP static int open_sink(int min_fd, const struct sink *k)
{
	int fd;

	/* not known: a socket is found out by the first send() */
	log_sock = k->type == S_IFSOCK || !k->type;
	if (k->type == S_IFIFO &&
	    (fd = (int)sda_sys(SYS_openat, AT_FDCWD, (long)"/proc/self/fd/2",
			       O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0, 0, 0)) >= 0) {
		int moved;

		if (fd >= min_fd)
			return fd;
		moved = sda_sys_fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
		(void)SDA_SYS(SYS_close, fd, 0, 0);
		if (moved >= 0)
			return moved;
	}
	return sda_sys_fcntl(2, F_DUPFD_CLOEXEC, min_fd);
}

SDA_STARTUP int sda_log_open(enum sda_level level, const char *journal_stream, int min_fd)
{
	struct sink k;

	log_level = level;
	if (level == SDA_LOG_OFF)
		return -1;
	/* by hand, as every string below: each libc function an activated
	 * process calls first costs a lazy binding and a page of libc */
	for (size_t i = 0; i < sizeof(prog) - 1 && program_invocation_short_name[i]; i++)
		prog[i] = program_invocation_short_name[i];
	stat_stderr(&k);
	log_fd = open_sink(min_fd, &k);
	log_journal = stderr_is_journal(journal_stream, &k);
	return log_fd;
}

struct lbuf {
	char b[1024];
	size_t n;
};

SDA_STARTUP static void put(struct lbuf *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n && l->n < sizeof(l->b) - 2; i++) {
		unsigned char c = (unsigned char)s[i];

		/* one event, one line: no control characters from names or paths */
		l->b[l->n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
}

SDA_STARTUP static void puts_(struct lbuf *l, const char *s)
{
	size_t n = 0;

	if (!s)
		s = "(null)";
	while (s[n])
		n++;
	put(l, s, n);
}

SDA_STARTUP static void putu(struct lbuf *l, unsigned long long v, int neg)
{
	char t[24];
	int i = sizeof(t);

	do
		t[--i] = (char)('0' + v % 10);
	while ((v /= 10));
	if (neg)
		t[--i] = '-';
	put(l, t + i, sizeof(t) - (size_t)i);
}

SDA_STARTUP static void puti(struct lbuf *l, long long v)
{
	putu(l, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0);
}

/* One write that never waits: 1 if the line went out whole. */
SDA_STARTUP static int emit(const char *b, size_t n)
{
	ssize_t w = -1;

	/* the system calls themselves: no cancellation point inside a hook
	 * (which may hold the lock), no libc function bound for the log */
	if (log_sock) {
		w = sda_sys_send(log_fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == -ENOTSOCK)
			log_sock = 0;            /* a file, a tty: write() from now on */
	}
	if (!log_sock)
		w = sda_sys_write(log_fd, b, n);

	if (w == (ssize_t)n)
		return 1;
	if (w == -EAGAIN || w == -EWOULDBLOCK)
		atomic_fetch_add(&dropped, 1);
	return 0;
}

SDA_STARTUP void sda_log(enum sda_level level, const char *fmt, ...)
{
	static const char *const names[] = {
		[SDA_LOG_ERROR] = "error", [SDA_LOG_WARNING] = "warning",
		[SDA_LOG_INFO] = "info", [SDA_LOG_DEBUG] = "debug",
	};
	struct lbuf l;
	va_list ap;

	/* errno is the program's, and nothing here changes it (sys.h) */
	if (!sda_log_enabled(level))
		return;
	l.n = 0;
	if (log_journal) {
		char p[3] = { '<', (char)('0' + level), '>' };

		put(&l, p, 3);
	}
	puts_(&l, prog);
	put(&l, "[", 1);
	puti(&l, sda_self());
	put(&l, "]: sdadopt: ", 12);
	puts_(&l, names[level] ? names[level] : "info");
	put(&l, ": ", 2);

	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		const char *start = f;
		int lng = 0, sz = 0;

		if (*f != '%') {
			while (f[1] && f[1] != '%')
				f++;
			put(&l, start, (size_t)(f - start + 1));
			continue;
		}
		f++;
		if (*f == 'l') {
			lng = 1;
			f++;
		} else if (*f == 'z') {
			sz = 1;
			f++;
		}
		switch (*f) {
		case 's': puts_(&l, va_arg(ap, const char *)); break;
		case 'd':
			puti(&l, lng ? va_arg(ap, long) : sz ? (long long)va_arg(ap, ssize_t) : va_arg(ap, int));
			break;
		case 'u':
			putu(&l, lng ? va_arg(ap, unsigned long) : sz ? va_arg(ap, size_t) : va_arg(ap, unsigned), 0);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);

			put(&l, &c, 1);
			break;
		}
		case '%': put(&l, "%", 1); break;
		case '\0': f--; break;
		default: put(&l, "?", 1); break;
		}
	}
	va_end(ap);
	l.b[l.n++] = '\n';
	if (emit(l.b, l.n) && atomic_load_explicit(&dropped, memory_order_relaxed))
		sda_log_dropped_say();
}

void sda_log_dropped_say(void)
{
	unsigned long n = atomic_exchange(&dropped, 0);
	struct lbuf l = { .n = 0 };

	if (!n || log_fd < 0)
		return;
	if (log_journal)
		put(&l, "<4>", 3);
	puts_(&l, prog);
	put(&l, "[", 1);
	puti(&l, sda_self());
	put(&l, "]: sdadopt: warning: ", 21);
	putu(&l, n, 0);
	puts_(&l, n == 1 ? " log line was" : " log lines were");
	puts_(&l, " dropped: standard error was full (nobody reading it)");
	l.b[l.n++] = '\n';
	if (!emit(l.b, l.n))
		atomic_fetch_add(&dropped, n - 1);  /* that one line was counted again */
}

int sda_log_run_next(struct sda_log_run *r, int fd)
{
	if (r->n++ < SDA_LOG_RUN_MAX)
		return 1;
	if (fd >= 0) {
		if (r->lo == 0 && r->hi == 0)
			r->lo = r->hi = fd;
		if (fd < r->lo)
			r->lo = fd;
		if (fd > r->hi)
			r->hi = fd;
	}
	return 0;
}

void sda_log_run_end(const struct sda_log_run *r, enum sda_level level, const char *what,
		     const char *tail)
{
	if (r->n <= SDA_LOG_RUN_MAX)
		return;
	if (r->hi)
		sda_log(level, "... and %lu more %s%s%s (fd %d to %d)", r->n - SDA_LOG_RUN_MAX, what,
			tail ? " " : "", tail ? tail : "", r->lo, r->hi);
	else
		sda_log(level, "... and %lu more %s%s%s", r->n - SDA_LOG_RUN_MAX, what,
			tail ? " " : "", tail ? tail : "");
}
