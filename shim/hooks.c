/* SPDX-License-Identifier: MIT */
/* The exported entry points.  Each is a one-line trampoline into the
 * mechanism of its own file (adopt.c, backlog.h, carry.c, fdstore.c, protect.c,
 * pathguard.c, xlate.c, report.c, handdown.c) or straight to the real
 * function; no logic lives here beyond choosing which. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "adopt.h"
#include "backlog.h"
#include "carry.h"
#include "fdstore.h"
#include "fdtab.h"
#include "fork.h"
#include "handdown.h"
#include "pathguard.h"
#include "protect.h"
#include "real.h"
#include "report.h"
#include "xlate.h"

/* The address-returning calls share one shape: on a translated fd, let the
 * kernel write into a full-size buffer, then hand the app the view of its
 * own family (AF_INET for XLATE, v4-mapped AF_INET6 for MAP6).
 * CALL(a, l) is the real call with the address arguments replaced. */
#define SDA_FD_XLATES (SDA_FD_XLATE | SDA_FD_MAP6)
#define XLATE_CALL(fd, addr, addrlen, CALL)                                     \
	__extension__({                                                        \
		struct sockaddr_storage ss_;                                   \
		socklen_t sl_ = sizeof(ss_);                                   \
		unsigned f_ = sda_fd_flags(fd);                                \
		__typeof__(CALL(addr, addrlen)) r_;                            \
		if (!(f_ & SDA_FD_XLATES) || !(addr) || !(addrlen)) {          \
			r_ = CALL(addr, addrlen);                              \
		} else {                                                       \
			r_ = CALL((struct sockaddr *)&ss_, &sl_);              \
			if (r_ >= 0)                                           \
				sda_xlate_out(f_, addr, addrlen, &ss_, sl_);   \
		}                                                              \
		r_;                                                            \
	})

/* The calls that take an address from the app: on a MAP6 fd, the app's
 * v4-mapped sockaddr_in6 goes to the IPv4 socket as a sockaddr_in. */
#define DEST_CALL(fd, addr, addrlen, CALL)                                      \
	__extension__({                                                        \
		struct sockaddr_in in_;                                        \
		(sda_fd_flags(fd) & SDA_FD_MAP6) && sda_map6_dest(addr, addrlen, &in_) ? \
			CALL((const struct sockaddr *)&in_, (socklen_t)sizeof(in_)) : \
			CALL(addr, addrlen);                                   \
	})

SDA_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = SDA_REAL(socket)(domain, type, protocol);

	if (fd >= 0)
		sda_fd_socket(fd, domain, type, protocol);
	return fd;
}

SDA_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (__builtin_expect(level == IPPROTO_IPV6 && (sda_fd_flags(fd) & SDA_FD_MAP6), 0))
		return sda_map6_setsockopt(fd, name, val, len);
	int r = SDA_REAL(setsockopt)(fd, level, name, val, len);

	if (r == 0)
		sda_carry_note(fd, level, name);
	return r;
}

/* On a MAP6 fd: IPv6-level options as decided by core/map6.h, and the
 * family the program believes in. */
SDA_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (__builtin_expect(!(sda_fd_flags(fd) & SDA_FD_MAP6), 1))
		return SDA_REAL(getsockopt)(fd, level, name, val, len);
	if (level == IPPROTO_IPV6)
		return sda_map6_getsockopt(fd, name, val, len);
	int r = SDA_REAL(getsockopt)(fd, level, name, val, len);

	if (r == 0 && level == SOL_SOCKET && name == SO_DOMAIN && val && len && *len >= sizeof(int)) {
		int v = AF_INET6;

		memcpy(val, &v, sizeof(v));
	}
	return r;
}

SDA_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int r = sda_adopt(fd, addr, len);

	if (r > 0)
		return 0;
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return SDA_REAL(bind)(fd, addr, len);
}

SDA_EXPORT int listen(int fd, int backlog)
{
	if (sda_keeps_backlog(fd))
		return 0;
	int r = SDA_REAL(listen)(fd, backlog);

	if (r == 0)
		sda_fdstore_listened(fd);
	return r;
}

/* The hot one: one table load, no lock, no allocation, no dlsym. */
SDA_EXPORT int close(int fd)
{
	unsigned f = sda_fd_flags(fd);

	if (__builtin_expect(f != 0, 0)) {
		if (f & SDA_FD_OWN)
			return sda_own_close(fd);
		sda_fd_set(fd, 0);
	}
	return sda_real_close(fd);
}

SDA_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	return sda_close_span(first, last, flags);
}

SDA_EXPORT void closefrom(int lowfd)
{
	(void)sda_close_span(lowfd < 0 ? 0u : (unsigned)lowfd, ~0U, 0);
}

SDA_EXPORT int dup2(int oldfd, int newfd)
{
	sda_before_dup_onto(oldfd, newfd);
	int r = SDA_REAL(dup2)(oldfd, newfd);

	if (r >= 0)
		sda_after_dup_onto(oldfd, newfd);
	return r;
}

SDA_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	sda_before_dup_onto(oldfd, newfd);
	int r = SDA_REAL(dup3)(oldfd, newfd, flags);

	if (r >= 0)
		sda_after_dup_onto(oldfd, newfd);
	return r;
}

SDA_EXPORT int unlink(const char *path)
{
	return sda_keeps_path(AT_FDCWD, path, 0) ? 0 : SDA_REAL(unlink)(path);
}

SDA_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	return sda_keeps_path(dirfd, path, flags) ? 0 : SDA_REAL(unlinkat)(dirfd, path, flags);
}

SDA_EXPORT int remove(const char *path)
{
	return sda_keeps_path(AT_FDCWD, path, 0) ? 0 : SDA_REAL(remove)(path);
}

/* accept()/accept4(): a connection accepted on a translated listener is
 * itself v4-mapped (XLATE) or IPv4 (MAP6), so it inherits the listener's
 * translation. */
static int accepted(int lfd, int fd)
{
	sda_serving();
	if (fd >= 0)
		sda_fd_fresh(fd, sda_fd_flags(lfd) & SDA_FD_XLATES);
	return fd;
}

#define ACC(a, l) SDA_REAL(accept)(fd, a, l)
SDA_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accepted(fd, XLATE_CALL(fd, addr, len, ACC));
}
#undef ACC

#define ACC4(a, l) SDA_REAL(accept4)(fd, a, l, flags)
SDA_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return accepted(fd, XLATE_CALL(fd, addr, len, ACC4));
}
#undef ACC4

#define GSN(a, l) SDA_REAL(getsockname)(fd, a, l)
SDA_EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return XLATE_CALL(fd, addr, len, GSN);
}
#undef GSN

#define GPN(a, l) SDA_REAL(getpeername)(fd, a, l)
SDA_EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return XLATE_CALL(fd, addr, len, GPN);
}
#undef GPN

#define RF(a, l) SDA_REAL(recvfrom)(fd, buf, n, flags, a, l)
SDA_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
			    socklen_t *len)
{
	sda_serving();
	return XLATE_CALL(fd, addr, len, RF);
}
#undef RF

SDA_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sockaddr_storage ss;
	void *name;
	socklen_t applen;
	unsigned f = sda_fd_flags(fd);
	ssize_t r;

	sda_serving();
	if (__builtin_expect(f & SDA_FD_MAP6, 0) && msg)
		return sda_map6_recvmsg(fd, f, msg, flags);
	if (!(f & SDA_FD_XLATE) || !msg || !msg->msg_name)
		return SDA_REAL(recvmsg)(fd, msg, flags);
	name = msg->msg_name;
	applen = msg->msg_namelen;
	msg->msg_name = &ss;
	msg->msg_namelen = sizeof(ss);
	r = SDA_REAL(recvmsg)(fd, msg, flags);
	if (r >= 0) {
		socklen_t sl = msg->msg_namelen;

		sda_xlate_out(f, name, &applen, &ss, sl);
		msg->msg_namelen = applen;
	} else {
		msg->msg_namelen = applen;
	}
	msg->msg_name = name;
	return r;
}

/* The app's addresses on a MAP6 fd (a UDP server answering its clients). */
#define ST(a, l) SDA_REAL(sendto)(fd, buf, n, flags, a, l)
SDA_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
			  socklen_t len)
{
	return DEST_CALL(fd, addr, len, ST);
}
#undef ST

SDA_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (__builtin_expect(!(sda_fd_flags(fd) & SDA_FD_MAP6), 1) || !msg)
		return SDA_REAL(sendmsg)(fd, msg, flags);
	return sda_map6_sendmsg(fd, msg, flags);
}

#define CON(a, l) SDA_REAL(connect)(fd, a, l)
SDA_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return DEST_CALL(fd, addr, len, CON);
}
#undef CON

/* exec: one path for every variant.  The environment a variant would use
 * (its envp, or environ) gets the LISTEN_* entries back when the activated
 * process execs before adopting anything; see sda_exec_env(). */
enum exec_kind { EXEC_PATH, EXEC_SEARCH, EXEC_FD };

static int do_exec(enum exec_kind k, const char *file, int fd, char *const argv[],
		   char *const envp[])
{
	char *const *env = sda_exec_env(envp, k == EXEC_FD ? "(fd)" : file);
	int r = k == EXEC_PATH   ? SDA_REAL(execve)(file, argv, env) :
		k == EXEC_SEARCH ? SDA_REAL(execvpe)(file, argv, env) :
				   SDA_REAL(fexecve)(fd, argv, env);

	sda_exec_failed();
	return r;
}

SDA_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_exec(EXEC_PATH, path, -1, argv, envp);
}

SDA_EXPORT int execv(const char *path, char *const argv[])
{
	return do_exec(EXEC_PATH, path, -1, argv, environ);
}

SDA_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_exec(EXEC_SEARCH, file, -1, argv, envp);
}

SDA_EXPORT int execvp(const char *file, char *const argv[])
{
	return do_exec(EXEC_SEARCH, file, -1, argv, environ);
}

SDA_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	return do_exec(EXEC_FD, NULL, fd, argv, envp);
}

/* fork(): the fork handlers are registered before the first one. */
SDA_EXPORT pid_t fork(void)
{
	sda_fork_coming();
	return SDA_REAL(fork)();
}

/* execl*: collect the variadic arguments into an argv on the stack. */
#define EXECL_ARGV(arg, ap, argv, n)                                           \
	size_t n = 1;                                                          \
	va_start(ap, arg);                                                     \
	while (va_arg(ap, const char *))                                       \
		n++;                                                           \
	va_end(ap);                                                            \
	char *argv[n + 1];                                                     \
	argv[0] = (char *)arg;                                                 \
	va_start(ap, arg);                                                     \
	for (size_t i_ = 1; i_ <= n; i_++)                                     \
		argv[i_] = va_arg(ap, char *)

SDA_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	EXECL_ARGV(arg, ap, argv, n);
	va_end(ap);
	return do_exec(EXEC_PATH, path, -1, argv, environ);
}

SDA_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	EXECL_ARGV(arg, ap, argv, n);
	va_end(ap);
	return do_exec(EXEC_SEARCH, file, -1, argv, environ);
}

SDA_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	EXECL_ARGV(arg, ap, argv, n);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return do_exec(EXEC_PATH, path, -1, argv, envp);
}
