/* SPDX-License-Identifier: MIT */
/* seccomp mode (design.md §6): for programs that cannot load the shim
 * (statically linked, Go).  sdadopt stays the parent and supervisor:
 *
 *   child:  NO_NEW_PRIVS; a filter that sends bind() and listen() (and
 *           unlink()/unlinkat() when unix paths are inherited) to a
 *           user-notification listener and allows everything else without
 *           loading an argument; the listener fd to the parent; exec.
 *   parent: keeps the inherited sockets (the child never holds them);
 *           bind() of an address an inherited socket serves (core/'s
 *           registry, the shim's precedence): the socket is put onto the
 *           child's fd (SECCOMP_IOCTL_NOTIF_ADDFD, SETFD) and the call
 *           answers 0; anything else continues in the kernel.
 *
 * Not a security boundary: CONTINUE lets the kernel re-read arguments the
 * program may have changed meanwhile; a racing program only fools itself. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "launcher.h"
#include "probe.h"
#include "registry.h"

#if defined(__x86_64__)
#define SDA_AUDIT_ARCH AUDIT_ARCH_X86_64
#define SDA_X32_BIT 0x40000000u
#elif defined(__aarch64__)
#define SDA_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_ADDFD
#error "linux/seccomp.h from Linux 5.9 or later is needed (SECCOMP_IOCTL_NOTIF_ADDFD)"
#endif

extern char **environ;

static int sys_seccomp(unsigned op, unsigned flags, void *args)
{
	return (int)syscall(SYS_seccomp, op, flags, args);
}

static int sys_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int sys_pidfd_getfd(int pidfd, int fd)
{
	return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}

/* ---- can we? ------------------------------------------------------------ */

static int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 1; /* cannot tell: try */
	return a > maj || (a == maj && b >= min);
}

int ln_seccomp_probe(const char **why)
{
#ifndef SDA_AUDIT_ARCH
	*why = "seccomp mode is not built for this architecture";
	return -ENOSYS;
#else
	unsigned action = SECCOMP_RET_USER_NOTIF;
	FILE *f;

	if (!kernel_at_least(5, 9)) {
		*why = "the kernel is older than 5.9 (no SECCOMP_IOCTL_NOTIF_ADDFD)";
		return -ENOSYS;
	}
	if (sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) {
		*why = errno == ENOSYS || errno == EINVAL
			       ? "the kernel has no seccomp user notification (CONFIG_SECCOMP_FILTER)"
			       : "seccomp is not available to this process";
		return -ENOSYS;
	}
	/* Yama: 3 forbids every ptrace access, 2 allows it to CAP_SYS_PTRACE
	 * only; process_vm_readv() needs it (1, the parent of the child, is fine) */
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		int scope = 0;

		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
		if (scope >= 3) {
			*why = "ptrace is restricted (kernel.yama.ptrace_scope=3): sdadopt cannot read "
			       "the program's bind() addresses";
			return -EPERM;
		}
		if (scope == 2 && geteuid() != 0) {
			*why = "ptrace is restricted (kernel.yama.ptrace_scope=2, and sdadopt is not "
			       "root): sdadopt cannot read the program's bind() addresses";
			return -EPERM;
		}
	}
	*why = NULL;
	return 0;
#endif
}

/* ---- the filter (runs in the child) -------------------------------------- */

#ifdef SDA_AUDIT_ARCH
static int install_filter(int trap_unlink, int *listener)
{
	struct sock_filter f[16];
	unsigned n = 0, notify, allow;
	struct sock_fprog prog;
	int fd;

#define ST(c, k) (f[n++] = (struct sock_filter)BPF_STMT((c), (k)))
#define JEQ(k, t, e) (f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (e)))
	/* the layout: 0 arch, 1 jeq arch, 2 nr, 3 x32?, then one jeq per
	 * trapped call, then ALLOW, NOTIFY */
	unsigned ntrap = trap_unlink ? 4 : 2;

	allow = 4 + ntrap;
	notify = allow + 1;
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	JEQ(SDA_AUDIT_ARCH, 0, (unsigned char)(allow - 2)); /* another arch: allow */
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef SDA_X32_BIT
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SDA_X32_BIT,
					      (unsigned char)(allow - 4), 0); /* x32: allow */
#else
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
#endif
	JEQ(__NR_bind, (unsigned char)(notify - 5), 0);
	JEQ(__NR_listen, (unsigned char)(notify - 6), 0);
	if (trap_unlink) {
#ifdef __NR_unlink
		JEQ(__NR_unlink, (unsigned char)(notify - 7), 0);
#else
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
#endif
		JEQ(__NR_unlinkat, (unsigned char)(notify - 8), 0);
	}
	ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	ST(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
#undef ST
#undef JEQ
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	fd = sys_seccomp(SECCOMP_SET_MODE_FILTER,
			 SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
	if (fd < 0 && errno == EINVAL) /* before 5.19 */
		fd = sys_seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return -errno;
	*listener = fd;
	return 0;
}
#endif

/* ---- the supervisor ---------------------------------------------------- */

struct sup {
	struct sda_registry reg;
	struct sda_map map;
	enum sda_level level;
	int strict;
	int logfd;
	int listener;
	pid_t child;
	unsigned *adoptions;     /* per registry entry */
	int warned_read, warned_xlate;
	unsigned long long hooked;
	char name[32];           /* the program's name, once it has exited */
	int log_is_socket;
	unsigned long dropped;   /* log lines that did not fit */
};

static void proc_name(pid_t pid, char *buf, size_t cap)
{
	char p[64];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%ld/comm", (long)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, cap - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(buf, cap, "?");
		return;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

/* One line in the shim's format, so that --explain reads both alike. */
__attribute__((format(printf, 4, 5))) static void slog(struct sup *s, pid_t pid, enum sda_level l,
						       const char *fmt, ...)
{
	static const char *const names[8] = {[3] = "error", [4] = "warning", [6] = "info", [7] = "debug"};
	char line[2048], comm[32];
	va_list ap;
	int n;

	if (l > s->level || s->level == SDA_LOG_OFF)
		return;
	if (pid == getpid())
		snprintf(comm, sizeof(comm), "%s", sda_me);
	else
		proc_name(pid, comm, sizeof(comm));
	if (!strcmp(comm, "?") && s->name[0])
		snprintf(comm, sizeof(comm), "%s", s->name);
	n = snprintf(line, sizeof(line), "%s[%ld]: sdadopt: %s: ", comm, (long)pid,
		     names[l] ? names[l] : "info");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* never block: the program's trapped call waits for us meanwhile */
	if ((s->log_is_socket ? send(s->logfd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL)
			      : write(s->logfd, line, (size_t)n)) < 0)
		s->dropped++;
}

/* A log fd of our own that never blocks: a pipe is reopened as a new open
 * file description with O_NONBLOCK (the program's stderr keeps its flags),
 * a socket gets MSG_DONTWAIT; a file or a terminal is written as it is. */
static void open_log(struct sup *s, int fd)
{
	struct stat st;
	char p[64];
	int nfd;

	s->logfd = fd;
	if (fstat(fd, &st) != 0)
		return;
	if (S_ISSOCK(st.st_mode)) {
		s->log_is_socket = 1;
		return;
	}
	if (!S_ISFIFO(st.st_mode))
		return;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	nfd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (nfd >= 0)
		s->logfd = nfd;
}

static int respond(struct sup *s, __u64 id, int err, int cont)
{
	struct seccomp_notif_resp r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.val = 0;
	r.error = err ? -err : 0;
	r.flags = cont ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, &r) != 0)
		return -errno; /* ENOENT: the task is gone or was interrupted */
	return 0;
}

static int id_valid(struct sup *s, __u64 id)
{
	return ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static ssize_t read_mem(struct sup *s, pid_t pid, void *buf, size_t len, __u64 addr)
{
	struct iovec l = {.iov_base = buf, .iov_len = len};
	struct iovec r = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);

	if (n < 0 && (errno == EPERM || errno == EACCES) && !s->warned_read) {
		s->warned_read = 1;
		slog(s, pid, SDA_LOG_ERROR,
		     "cannot read the program's memory (process_vm_readv: %s): ptrace access is "
		     "restricted; its binds are not adopted",
		     strerror(errno));
	}
	return n;
}

/* The thread group of task `tid`. */
static pid_t tgid_of(pid_t tid)
{
	char p[64], line[128];
	FILE *f;
	pid_t tg = -1;

	snprintf(p, sizeof(p), "/proc/%ld/status", (long)tid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tg) == 1)
			break;
	fclose(f);
	return tg;
}

/* A copy of the child's fd (pidfd_getfd), and whether its own is
 * close-on-exec (/proc/TID/fdinfo: the copy is always close-on-exec). */
static int child_fd(pid_t tid, int fd, int *cloexec)
{
	char p[96], line[128];
	pid_t tg = tgid_of(tid);
	int pidfd, copy;
	FILE *f;

	if (tg <= 0)
		return -ESRCH;
	pidfd = sys_pidfd_open(tg);
	if (pidfd < 0)
		return -errno;
	copy = sys_pidfd_getfd(pidfd, fd);
	if (copy < 0) {
		int e = -errno;

		close(pidfd);
		return e;
	}
	close(pidfd);
	if (cloexec) {
		*cloexec = 0;
		snprintf(p, sizeof(p), "/proc/%ld/fdinfo/%d", (long)tid, fd);
		f = fopen(p, "re");
		if (f) {
			unsigned long fl;

			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "flags: %lo", &fl) == 1) {
					*cloexec = (fl & O_CLOEXEC) != 0;
					break;
				}
			fclose(f);
		}
	}
	return copy;
}

static void on_bind(struct sup *s, const struct seccomp_notif *n)
{
	struct sockaddr_storage ss;
	struct sda_addr want;
	char a[160], ia[160];
	int fd = (int)n->data.args[0], copy, cloexec = 0, type = 0, family = 0, fl;
	socklen_t len = (socklen_t)n->data.args[2], ol;
	enum sda_how how = SDA_MATCH_NONE;
	long i;
	struct seccomp_notif_addfd add;
	const struct sda_sock *e;

	if (len < sizeof(sa_family_t) || len > sizeof(ss) || !s->reg.n)
		goto cont;
	memset(&ss, 0, sizeof(ss));
	if (read_mem(s, n->pid, &ss, len, n->data.args[1]) != (ssize_t)len)
		goto cont;
	/* the pid may have been reused: is the notification still live? */
	if (!id_valid(s, n->id))
		return;
	if (sda_addr_from_sockaddr((struct sockaddr *)&ss, len, &want) < 0)
		goto cont;
	if (want.family != AF_UNIX && want.port == 0)
		goto cont; /* Go's start-up probes bind [::1]:0 and [::ffff:127.0.0.1]:0 */
	if (want.family != AF_UNIX && !sda_registry_port_used(&s->reg, want.port))
		goto cont;
	copy = child_fd(n->pid, fd, &cloexec);
	if (copy < 0)
		goto cont;
	ol = sizeof(type);
	getsockopt(copy, SOL_SOCKET, SO_TYPE, &type, &ol);
	ol = sizeof(family);
	getsockopt(copy, SOL_SOCKET, SO_DOMAIN, &family, &ol);
	fl = fcntl(copy, F_GETFL);
	close(copy);
	sda_addr_format(&want, a, sizeof(a));
	i = sda_registry_match(&s->reg, &want, type, &how);
	if (i < 0) {
		if (s->strict && (i = sda_registry_same_port(&s->reg, &want, type)) >= 0) {
			e = &s->reg.e[i];
			sda_addr_format(&e->addr, ia, sizeof(ia));
			slog(s, n->pid, SDA_LOG_ERROR,
			     "bind(%d, %s) would bypass inherited fd %d \"%s\" (%s %s); failing it with "
			     "EADDRINUSE (SDADOPT_STRICT)",
			     fd, a, e->fd, e->name, sda_type_name(e->family, e->type), ia);
			respond(s, n->id, EADDRINUSE, 0);
			return;
		}
		slog(s, n->pid, SDA_LOG_DEBUG, "bind(%d, %s): no inherited socket serves it; binding natively",
		     fd, a);
		goto cont;
	}
	e = &s->reg.e[i];
	sda_addr_format(&e->addr, ia, sizeof(ia));
	if (how == SDA_MATCH_DUALSTACK || family != e->family) {
		/* the program would hold an AF_INET6 socket while it believes it
		 * has AF_INET: only the shim can translate the addresses */
		if (!s->warned_xlate++)
			slog(s, n->pid, SDA_LOG_WARNING,
			     "bind(%d, %s): inherited fd %d \"%s\" (%s %s) serves it dual-stack, but in "
			     "seccomp mode nothing can translate its addresses to IPv4; binding natively",
			     fd, a, e->fd, e->name, sda_type_name(e->family, e->type), ia);
		goto cont;
	}
	/* the program's O_NONBLOCK (Go needs it) onto the inherited socket:
	 * the open file description is shared, as with the shim's dup3() */
	if (fl >= 0) {
		int ifl = fcntl(e->fd, F_GETFL);

		if (ifl >= 0 && (ifl & O_NONBLOCK) != (fl & O_NONBLOCK))
			fcntl(e->fd, F_SETFL, (ifl & ~O_NONBLOCK) | (fl & O_NONBLOCK));
	}
	memset(&add, 0, sizeof(add));
	add.id = n->id;
	add.flags = SECCOMP_ADDFD_FLAG_SETFD;
	add.srcfd = (__u32)e->fd;
	add.newfd = (__u32)fd;
	add.newfd_flags = cloexec ? O_CLOEXEC : 0;
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0) {
		if (errno != ENOENT)
			slog(s, n->pid, SDA_LOG_WARNING,
			     "bind(%d, %s): cannot adopt inherited fd %d: SECCOMP_IOCTL_NOTIF_ADDFD: %s; "
			     "binding natively",
			     fd, a, e->fd, strerror(errno));
		goto cont;
	}
	s->adoptions[i]++;
	slog(s, n->pid, SDA_LOG_INFO, "adopted inherited fd %d \"%s\" (%s %s) as fd %d for bind(%s) [%s]",
	     e->fd, e->name, sda_type_name(e->family, e->type), ia, fd, a, sda_how_name(how));
	respond(s, n->id, 0, 0);
	return;
cont:
	respond(s, n->id, 0, 1);
}

static void on_listen(struct sup *s, const struct seccomp_notif *n)
{
	int copy = child_fd(n->pid, (int)n->data.args[0], NULL);
	struct stat st;
	long i = -1;

	if (copy >= 0) {
		if (fstat(copy, &st) == 0 && S_ISSOCK(st.st_mode))
			i = sda_registry_find_inode(&s->reg, st.st_dev, st.st_ino);
		close(copy);
	}
	/* an adopted socket listens already: keep its backlog (Backlog=) */
	if (i >= 0 && s->reg.e[i].listening && id_valid(s, n->id)) {
		respond(s, n->id, 0, 0);
		return;
	}
	respond(s, n->id, 0, 1);
}

/* unlink()/unlinkat() of an inherited unix socket's path: a no-op, the path
 * belongs to the activator. */
static void on_unlink(struct sup *s, const struct seccomp_notif *n)
{
	char path[PATH_MAX], full[PATH_MAX + 64];
	int at = n->data.nr != __NR_unlinkat ? 0 : 1;
	int dirfd = at ? (int)n->data.args[0] : AT_FDCWD;
	__u64 addr = n->data.args[at ? 1 : 0];
	struct stat st;
	ssize_t got;
	long i;

	if (at && (n->data.args[2] & AT_REMOVEDIR))
		goto cont;
	/* bounded: one page at most, then a NUL must have come */
	got = read_mem(s, n->pid, path, 256, addr);
	if (got <= 0)
		goto cont;
	if (!memchr(path, '\0', (size_t)got)) {
		got = read_mem(s, n->pid, path, sizeof(path), addr);
		if (got <= 0 || !memchr(path, '\0', (size_t)got))
			goto cont;
	}
	if (!id_valid(s, n->id))
		return;
	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else if (dirfd == AT_FDCWD)
		snprintf(full, sizeof(full), "/proc/%ld/cwd/%s", (long)n->pid, path);
	else
		snprintf(full, sizeof(full), "/proc/%ld/fd/%d/%s", (long)n->pid, dirfd, path);
	if (lstat(full, &st) != 0 || !S_ISSOCK(st.st_mode))
		goto cont;
	i = sda_registry_find_path_inode(&s->reg, st.st_dev, st.st_ino);
	if (i < 0)
		goto cont;
	slog(s, n->pid, SDA_LOG_DEBUG, "kept %s: it is inherited fd %d's socket path, owned by the activator",
	     path, s->reg.e[i].fd);
	respond(s, n->id, 0, 0);
	return;
cont:
	respond(s, n->id, 0, 1);
}

static void handle(struct sup *s)
{
	struct seccomp_notif n;

	memset(&n, 0, sizeof(n));
	if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0)
		return; /* EINTR, or ENOENT: the task went away */
	s->hooked++;
#ifdef SDA_AUDIT_ARCH
	if (n.data.arch != SDA_AUDIT_ARCH) {
		respond(s, n.id, 0, 1);
		return;
	}
#endif
	if (n.data.nr == __NR_bind)
		on_bind(s, &n);
	else if (n.data.nr == __NR_listen)
		on_listen(s, &n);
	else
		on_unlink(s, &n);
}

/* ---- set-up and the run ------------------------------------------------- */

static void build_registry(struct sup *s, const struct opts *o, int total, char *names)
{
	const char *m = getenv("SDADOPT_MAP"), *pol = getenv("SDADOPT_MATCH");
	const char *lvl = getenv("SDADOPT_LOG"), *st = getenv("SDADOPT_STRICT");
	enum sda_match_policy policy = SDA_POLICY_EXACT;
	char *joined = NULL;
	struct sda_map_error errs[8];
	size_t nerrs = 0;
	int b = 0;

	if (o->nmap)
		m = joined = ln_join(o->map, o->nmap, ",");
	if (o->match && *o->match)
		pol = o->match;
	if (o->log && *o->log)
		lvl = o->log;
	if (o->explain)
		lvl = "debug";
	if (sda_parse_level(lvl, &s->level) < 0)
		s->level = SDA_LOG_DEFAULT;
	if (sda_parse_match_policy(pol, &policy) < 0)
		policy = SDA_POLICY_EXACT;
	s->strict = o->strict || (st && sda_parse_bool(st, &b) == 0 && b);
	if (sda_map_parse(m, &s->map, errs, 8, &nerrs) < 0)
		ln_die(EX_OSERR_, "out of memory");
	for (size_t i = 0; i < nerrs && i < 8; i++)
		ln_warn("SDADOPT_MAP entry '%.*s': %s; left out", (int)errs[i].len, errs[i].entry,
			errs[i].why);
	free(joined);
	if (sda_registry_alloc(&s->reg, (size_t)total) < 0)
		ln_die(EX_OSERR_, "out of memory");
	/* names may be empty fields: split by hand */
	{
		char *p = names;

		for (int i = 0; i < total; i++) {
			char *c = p ? strchr(p, ':') : NULL;

			if (c)
				*c = '\0';
			sda_probe(3 + i, &s->reg.e[i]);
			s->reg.e[i].name = p ? p : "unknown";
			p = c ? c + 1 : NULL;
		}
	}
	s->reg.map = &s->map;
	s->reg.policy = policy;
	sda_registry_index(&s->reg);
	s->adoptions = ln_xrealloc(NULL, (size_t)(total ? total : 1) * sizeof(unsigned));
	memset(s->adoptions, 0, (size_t)(total ? total : 1) * sizeof(unsigned));
}

static int send_fd(int sock, int fd, int err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec io = {.iov_base = &err, .iov_len = sizeof(err)};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static int recv_fd(int sock, int *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec io = {.iov_base = err, .iov_len = sizeof(*err)};
	struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	ssize_t n;
	int fd = -1;

	*err = 0;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		*err = n < 0 ? errno : EPIPE;
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static const int fwd_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, 0};

/* (a terminal's ^C or ^\ reaches the program itself: it is in the same
 * process group) */
static int forwards(const struct signalfd_siginfo *si)
{
	return !(si->ssi_code == SI_KERNEL && (si->ssi_signo == SIGINT || si->ssi_signo == SIGQUIT));
}

static void on_listener(struct ln_supervise *sv, short revents)
{
	if (revents & POLLIN)
		handle(sv->ctx);
	else if (revents & (POLLHUP | POLLERR | POLLNVAL))
		sv->fd = -1;
}

/* serve until the child has exited and no task runs under the filter
 * (POLLHUP on the listener): a prefork worker's bind() still needs us */
static int served(struct ln_supervise *sv, int *timeout)
{
	(void)timeout;
	return sv->exited && sv->fd < 0;
}

int ln_seccomp_run(const struct opts *o, const struct target *t, int logfd, int explain)
{
#ifndef SDA_AUDIT_ARCH
	(void)o, (void)t, (void)logfd, (void)explain;
	ln_die(EX_UNAVAILABLE_, "seccomp mode is not built for this architecture");
#else
	struct sup s;
	struct listened l = {0};
	char *names = NULL;
	int total, sp[2], err = 0, status, trap_unlink = 0;
	struct ln_supervise sv = {.signals = fwd_signals,
				  .forwards = forwards,
				  .on_fd = on_listener,
				  .before_wait = served,
				  .ctx = &s};
	pid_t child;

	(void)explain;
	memset(&s, 0, sizeof(s));
	s.logfd = logfd;
	s.listener = -1;
	{
		const char *b = strrchr(t->path, '/');

		/* as the kernel's comm: 15 characters */
		snprintf(s.name, 16, "%s", b ? b + 1 : t->path);
	}
	/* the sockets: inherited from our activator (3..), then --listen */
	if (o->nlisten) {
		ln_listen_sockets(o, &l);
		total = l.k + l.n;
		names = l.names;
	} else {
		total = ln_inherited(&names);
	}
	for (int i = 0; i < total; i++)
		fcntl(3 + i, F_SETFD, FD_CLOEXEC); /* the child never holds them */
	/* only now: a log fd of our own opened before would be a low number
	 * that a --listen socket then replaces (dup2 onto 3, 4, ...) */
	open_log(&s, logfd);
	build_registry(&s, o, total, names);
	for (size_t i = 0; i < s.reg.n; i++) {
		const struct sda_sock *e = &s.reg.e[i];
		char a[160];

		if (!e->usable) {
			slog(&s, getpid(), SDA_LOG_WARNING, "ignoring inherited fd %d \"%s\": %s", e->fd, e->name,
			     e->why ? e->why : "not usable");
			continue;
		}
		if (e->family == AF_UNIX && !e->addr.abstract)
			trap_unlink = 1;
		sda_addr_format(&e->addr, a, sizeof(a));
		slog(&s, getpid(), SDA_LOG_DEBUG, "inherited fd %d \"%s\": %s %s%s%s", e->fd, e->name,
		     sda_type_name(e->family, e->type), a,
		     e->family == AF_INET6 && !e->v6only ? " (dual-stack)" : "",
		     e->type != SOCK_DGRAM && e->listening ? ", listening" : "");
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("LISTEN_PIDFDID");

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		ln_die(EX_OSERR_, "socketpair: %s", strerror(errno));
	child = ln_supervise_fork(&sv);
	if (child == 0) {
		int lfd = -1, r;
		char *word = o->argv[0];

		close(sp[0]);
		/* prepared before the filter: after it, nothing that is trapped */
		o->argv[0] = (char *)t->word;
		r = install_filter(trap_unlink, &lfd);
		if (r < 0) {
			send_fd(sp[1], -1, -r);
			_exit(EX_UNAVAILABLE_);
		}
		if (send_fd(sp[1], lfd, 0) < 0)
			_exit(EX_UNAVAILABLE_);
		close(lfd);
		/* wait for the parent to hold the listener: a bind() before that
		 * would wait in the queue anyway, but an exec failure is reported
		 * by the parent only after this */
		{
			char ack;

			if (read(sp[1], &ack, 1) != 1)
				_exit(EX_UNAVAILABLE_);
		}
		execve(t->path, o->argv, environ);
		r = errno;
		o->argv[0] = word;
		{
			char msg[512];
			int k = snprintf(msg, sizeof(msg), "%s: error: %s: %s\n", sda_me, t->path, strerror(r));

			if (k > 0 && write(2, msg, (size_t)k) < 0)
				r = r + 0;
		}
		_exit(r == ENOENT ? EX_NOTFOUND_ : EX_NOEXEC_);
	}
	close(sp[1]);
	s.child = child;
	s.listener = recv_fd(sp[0], &err);
	if (s.listener < 0) {
		int st;

		waitpid(child, &st, 0);
		if (err == EACCES || err == EPERM)
			ln_die(EX_UNAVAILABLE_,
			       "seccomp mode: the kernel refused the filter (%s): a seccomp policy (a "
			       "container's?) forbids new filters",
			       strerror(err));
		if (err == EINVAL || err == ENOSYS)
			ln_die(EX_UNAVAILABLE_,
			       "seccomp mode: the kernel has no seccomp user notification (%s); Linux 5.9 or "
			       "later is needed",
			       strerror(err));
		ln_die(EX_UNAVAILABLE_, "seccomp mode: cannot install the filter: %s", strerror(err));
	}
	if (write(sp[0], "g", 1) != 1)
		ln_die(EX_UNAVAILABLE_, "seccomp mode: the child went away: %s", strerror(errno));
	close(sp[0]);
	sv.fd = s.listener;
	status = ln_supervise_run(&sv);
	for (size_t i = 0; i < s.reg.n; i++) {
		const struct sda_sock *e = &s.reg.e[i];
		char a[160];

		if (!e->usable || s.adoptions[i])
			continue;
		sda_addr_format(&e->addr, a, sizeof(a));
		slog(&s, child, s.strict ? SDA_LOG_ERROR : SDA_LOG_WARNING,
		     "inherited fd %d \"%s\" (%s %s) was never adopted at exit: no bind() asked for its "
		     "address (see SDADOPT_MAP, SDADOPT_MATCH=port)",
		     e->fd, e->name, sda_type_name(e->family, e->type), a);
	}
	if (s.dropped)
		ln_warn("%lu log lines were dropped: standard error was full", s.dropped);
	close(s.listener);
	if (s.logfd != logfd)
		close(s.logfd);
	sda_registry_free(&s.reg);
	sda_map_free(&s.map);
	free(s.adoptions);
	free(names);
	return status;
#endif
}
