/* SPDX-License-Identifier: MIT */
#include "fdstore.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "arena.h"
#include "config.h"
#include "env.h"
#include "fdtab.h"
#include "inherited.h"
#include "lock.h"
#include "log.h"
#include "real.h"

#define SENT_MAX 256            /* listening sockets handed per process */
#define SEND_WAIT_MS 1000       /* a full notify queue: one bounded wait */

enum { OFF = 0, ON, BAD };

static _Atomic int state;       /* OFF unless SDADOPT_FDSTORE asked for it */
/* The rest only with SDADOPT_FDSTORE set (state is not OFF then): in the
 * arena, not in the shim's data, whose one page every process writes. */
struct store {
	char bad_text[400];     /* BAD: why, said once at the first listen() */
	struct sockaddr_un dest;
	socklen_t dest_len;
	char dest_text[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	enum sda_level level;
	char journal[64];       /* JOURNAL_STREAM, copied: programs clear environ */
	long store_max;         /* $FDSTORE (systemd >= 254); -1: not known */
	pid_t main_pid;
	ino_t seen[SENT_MAX];   /* socket inodes handed or refused: each is
				 * dealt with once (inode numbers of sockets
				 * are not reused while they live) */
	size_t n_seen, n_sent;
	int said_many;
};
static struct store *fs;

/* A process that is not activated has no log sink of its own (none that
 * close() could protect): one is opened for the event's line and closed
 * again, with the lock held. */
static int sink_begin(void)
{
	if (sda_log_fd() >= 0)
		return 0;
	return sda_log_open(fs->level, fs->journal[0] ? fs->journal : NULL, SDA_LISTEN_FDS_START) >= 0;
}

static void sink_end(int opened)
{
	if (opened && sda_log_fd() >= 0) {
		(void)sda_real_close(sda_log_fd());
		sda_log_set_fd(-1);
	}
}

size_t sda_fdstore_name(int family, int type, const char *addr, char *buf, size_t cap)
{
	size_t n = 0, max;

	if (!cap)
		return 0;
	max = cap - 1 < 255 ? cap - 1 : 255;
	for (const char *p = sda_type_name(family, type); *p && n < max; p++)
		buf[n++] = *p;
	if (n < max)
		buf[n++] = '-';
	for (const char *p = addr; *p && n < max; p++) {
		unsigned char c = (unsigned char)*p;

		buf[n++] = c == ':' ? '_' : (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	buf[n] = '\0';
	return n;
}

/* bad("SDADOPT_FDSTORE=", v, " is not ..."): the text of the line */
static void bad(const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	size_t n = 0;

	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; *p && n < sizeof(fs->bad_text) - 1; p++)
			fs->bad_text[n++] = *p;
	fs->bad_text[n] = '\0';
	atomic_store(&state, BAD);
}

void sda_fdstore_configure(void)
{
	const char *v = getenv("SDADOPT_FDSTORE"), *ns, *js, *fds;
	uint64_t max;
	size_t n;
	int on;

	if (!v || !(fs = sda_arena_zalloc(sizeof(*fs))))
		return;                  /* no memory: no log either, stays off */
	fs->level = SDA_LOG_DEFAULT;
	fs->store_max = -1;
	(void)sda_parse_level(getenv("SDADOPT_LOG"), &fs->level);
	js = getenv("JOURNAL_STREAM");
	if (js && strlen(js) < sizeof(fs->journal))
		strcpy(fs->journal, js);
	if (sda_parse_bool(v, &on) < 0) {
		bad("SDADOPT_FDSTORE=", v, " is not a boolean (0/1, yes/no, true/false, on/off)");
		return;
	}
	if (!on)
		return;
	ns = getenv("NOTIFY_SOCKET");
	if (!ns || !*ns) {
		bad("SDADOPT_FDSTORE=1 but NOTIFY_SOCKET is unset (the unit needs NotifyAccess=main "
		    "and FileDescriptorStoreMax=)", "", "");
		return;
	}
	n = strlen(ns);
	if ((ns[0] != '/' && ns[0] != '@') || n < 2 || n >= sizeof(fs->dest.sun_path)) {
		bad("SDADOPT_FDSTORE=1 but NOTIFY_SOCKET=", ns,
		    " is not an absolute path or an @abstract name of at most 107 bytes");
		return;
	}
	memcpy(fs->dest_text, ns, n + 1);
	fs->dest.sun_family = AF_UNIX;
	memcpy(fs->dest.sun_path, ns, n);
	if (ns[0] == '@')
		fs->dest.sun_path[0] = '\0';
	fs->dest_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (ns[0] == '/'));
	fds = getenv("FDSTORE");
	if (fds && sda_parse_u64(fds, &max) == 0 && max <= 0x7fffffff)
		fs->store_max = (long)max;
	fs->main_pid = getpid();
	atomic_store(&state, ON);
}

/* One message, FDSTORE=1 and FDNAME=, with fd attached; 0 or -errno (what
 * names the call that failed).  Never waits more than SEND_WAIT_MS.  The
 * socket calls here and below are system calls: never the shim's own hooks
 * (-Bsymbolic-functions binds our calls to them). */
static int send_store(int fd, const char *name, const char **what)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} c;
	char msg[300] = "FDSTORE=1\nFDNAME=";
	size_t n = strlen(msg), k = strlen(name);
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	int s, r = 0;

	memcpy(msg + n, name, k);
	n += k;
	s = (int)syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		*what = "socket";
		return -errno;
	}
	if (syscall(SYS_connect, s, (const struct sockaddr *)&fs->dest, fs->dest_len) < 0) {
		*what = "connect";
		r = -errno;
		goto out;
	}
	iov = (struct iovec){ .iov_base = msg, .iov_len = n };
	memset(&mh, 0, sizeof(mh));
	memset(&c, 0, sizeof(c));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = c.b;
	mh.msg_controllen = sizeof(c.b);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	for (int waited = 0, intr = 0;;) {
		if (syscall(SYS_sendmsg, s, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			break;
		if (errno == EINTR && intr++ < 3)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && !waited++) {
			struct pollfd p = { .fd = s, .events = POLLOUT };

			if (poll(&p, 1, SEND_WAIT_MS) > 0)
				continue;
			errno = EAGAIN;
		}
		*what = "sendmsg";
		r = -errno;
		break;
	}
out:
	(void)sda_real_close(s);
	return r;
}

/* Is the socket one of the inherited ones (held through a dup())? */
static int inherited_inode(ino_t ino)
{
	sigset_t mask;
	struct stat st;
	int hit = 0;

	if (!sda_activated())
		return 0;
	sda_lock(&mask);
	for (size_t i = 0; i < sda_inh.n && !hit; i++)
		hit = sda_inh.fds[i] >= 0 && fstat(sda_inh.fds[i], &st) == 0 && st.st_ino == ino;
	sda_unlock(&mask);
	return hit;
}

/* What the store holds already, as far as this process can tell: the
 * inherited fds with names of our kind (a restart passed them back). */
static size_t stored_before(void)
{
	static const char *const kinds[] = { "tcp-", "stream-", "seqpacket-" };
	size_t k = 0;

	if (!sda_activated())
		return 0;
	for (size_t i = 0; i < sda_inh.n; i++)
		for (size_t j = 0; j < 3; j++)
			if (sda_inh.env.names[i] &&
			    strncmp(sda_inh.env.names[i], kinds[j], strlen(kinds[j])) == 0)
				k++;
	return k;
}

/* The lock is held and the log's sink open. */
static void hand(int fd, ino_t ino, const char *kind, const char *a, const char *name)
{
	const char *what = "";
	int r;

	for (size_t i = 0; i < fs->n_seen; i++)
		if (fs->seen[i] == ino)
			return;                  /* listen() again on the same socket */
	if (fs->n_seen == SENT_MAX) {
		if (!fs->said_many++)
			sda_warn("fd store: more than %d listening sockets in this process; "
			    "fd %d (%s %s) and later ones are not stored", SENT_MAX, fd, kind, a);
		return;
	}
	fs->seen[fs->n_seen++] = ino;
	if (fs->store_max >= 0 && stored_before() + fs->n_sent >= (size_t)fs->store_max) {
		sda_warn("fd store: full (FDSTORE=%ld): fd %d (%s %s) is not stored, a restart "
		    "refuses connections to it; raise FileDescriptorStoreMax=", fs->store_max, fd, kind, a);
		return;
	}
	r = send_store(fd, name, &what);
	if (r == 0) {
		fs->n_sent++;
		if (getpid() == fs->main_pid)
			sda_info("handed fd %d (%s %s) to systemd's fd store as \"%s\"; the next "
			    "start adopts it", fd, kind, a, name);
		else
			sda_info("handed fd %d (%s %s) to systemd's fd store as \"%s\" from pid %d, "
			    "not the main process: systemd keeps it only with NotifyAccess=all", fd, kind, a,
			    name, (int)getpid());
		return;
	}
	if (strcmp(what, "sendmsg") != 0) {
		/* nobody to hand anything to: said once, then off */
		sda_warn("fd store: cannot reach NOTIFY_SOCKET=%s: %s: %s; fd %d (%s %s) "
		    "and later listening sockets are not stored", fs->dest_text, what,
		    strerrorname_np(-r), fd, kind, a);
		atomic_store(&state, OFF);
		return;
	}
	sda_warn("fd store: NOTIFY_SOCKET=%s refused fd %d (%s %s): %s: %s; it is not "
	    "stored", fs->dest_text, fd, kind, a, what, strerrorname_np(-r));
}

void sda_fdstore_listened(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss), ol;
	struct sda_addr addr;
	struct stat st;
	char a[160], name[256];
	const char *kind;
	sigset_t old;
	int saved, type, domain, opened;

	if (__builtin_expect(atomic_load_explicit(&state, memory_order_relaxed) == OFF, 1))
		return;
	saved = errno;
	/* a native listening socket of a kind the store can give back; not an
	 * adopted one (a socket unit or the store has it already) */
	if (sda_fd_flags(fd) & (SDA_FD_ADOPTED | SDA_FD_OWN) || fstat(fd, &st) < 0 ||
	    !S_ISSOCK(st.st_mode))
		goto out;
	ol = sizeof(type);
	if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, &type, &ol) < 0 ||
	    (type != SOCK_STREAM && type != SOCK_SEQPACKET))
		goto out;
	ol = sizeof(domain);
	if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, &domain, &ol) < 0 ||
	    (domain != AF_INET && domain != AF_INET6 && domain != AF_UNIX))
		goto out;
	if (syscall(SYS_getsockname, fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    sda_addr_from_sockaddr((struct sockaddr *)&ss, sl, &addr) < 0 || inherited_inode(st.st_ino))
		goto out;
	sda_addr_format(&addr, a, sizeof(a));
	kind = sda_type_name(domain, type);
	sda_fdstore_name(domain, type, a, name, sizeof(name));

	sda_lock(&old);                          /* the shim's one lock (lock.c) */
	opened = sink_begin();
	switch (atomic_load(&state)) {
	case BAD:
		sda_warn("%s; fd %d (%s %s) and later listening sockets are not stored "
		    "in systemd's fd store", fs->bad_text, fd, kind, a);
		atomic_store(&state, OFF);
		break;
	case ON:
		hand(fd, st.st_ino, kind, a, name);
		break;
	}
	sink_end(opened);
	sda_unlock(&old);
out:
	errno = saved;
}
