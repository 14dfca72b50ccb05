/* SPDX-License-Identifier: MIT */
/* real: the table of the real (next) definitions of every hooked function. */
#ifndef SDA_REAL_H
#define SDA_REAL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "startcode.h"

#define SDA_EXPORT __attribute__((visibility("default")))

/* X-macro: return type, name, parameter list.  One list feeds the table,
 * the resolver and the allow-list test of exported symbols. */
#define SDA_REAL_FUNCS(X)                                                              \
	X(int, socket, (int, int, int))                                                \
	X(int, setsockopt, (int, int, int, const void *, socklen_t))                   \
	X(int, getsockopt, (int, int, int, void *, socklen_t *))                       \
	X(int, bind, (int, const struct sockaddr *, socklen_t))                        \
	X(int, listen, (int, int))                                                     \
	X(int, close, (int))                                                           \
	X(int, close_range, (unsigned int, unsigned int, int))                         \
	X(void, closefrom, (int))                                                      \
	X(int, dup2, (int, int))                                                       \
	X(int, dup3, (int, int, int))                                                  \
	X(int, unlink, (const char *))                                                 \
	X(int, unlinkat, (int, const char *, int))                                     \
	X(int, remove, (const char *))                                                 \
	X(int, accept, (int, struct sockaddr *, socklen_t *))                          \
	X(int, accept4, (int, struct sockaddr *, socklen_t *, int))                    \
	X(int, getsockname, (int, struct sockaddr *, socklen_t *))                     \
	X(int, getpeername, (int, struct sockaddr *, socklen_t *))                     \
	X(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *)) \
	X(ssize_t, recvmsg, (int, struct msghdr *, int))                               \
	X(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t)) \
	X(ssize_t, sendmsg, (int, const struct msghdr *, int))                         \
	X(int, connect, (int, const struct sockaddr *, socklen_t))                     \
	X(int, execve, (const char *, char *const[], char *const[]))                   \
	X(int, execvpe, (const char *, char *const[], char *const[]))                  \
	X(int, fexecve, (int, char *const[], char *const[]))                           \
	X(pid_t, fork, (void))

struct sda_real_table {
#define SDA_REAL_FIELD(ret, name, args) ret(*name) args;
	SDA_REAL_FUNCS(SDA_REAL_FIELD)
#undef SDA_REAL_FIELD
};

extern struct sda_real_table sda_real;

/* Look one function up with dlsym(RTLD_NEXT) and store it in the table at
 * `offset` (thread-safe: every racer stores the same pointer).  `self` is
 * our own definition, never taken for the real one.  A missing function
 * that every libc has is fatal (one line, abort); an optional one (close_range,
 * closefrom) gives NULL. */
void *sda_real_get(size_t offset, const char *name, void *self, int optional);
/* Only close(), by the constructor: the close() hook never resolves.  Its
 * code sits with the constructor's (.text.startup, where the compiler puts
 * constructors): every process runs both, and each further page of code
 * is a page fault. */
SDA_STARTUP void sda_real_resolve_close(void);

/* The real close(), or the system call where the constructor could not
 * resolve it (or has not run yet): the close() hook and every close of the
 * shim's own. */
static inline int sda_real_close(int fd)
{
	return sda_real.close ? sda_real.close(fd) : (int)syscall(SYS_close, fd);
}

/* The real function, looked up on its first use (a hook may run before our
 * constructor; a process never pays for functions it never calls).  Never
 * used by close(), which falls back to the system call: see hooks.c. */
#define SDA_REAL_LOOKUP_(name, optional)                                              \
	((__typeof__(sda_real.name))(__atomic_load_n(&sda_real.name, __ATOMIC_RELAXED) ?  \
		(void *)__atomic_load_n(&sda_real.name, __ATOMIC_RELAXED) :            \
		sda_real_get(offsetof(struct sda_real_table, name), #name, (void *)&name, optional)))
#define SDA_REAL(name) SDA_REAL_LOOKUP_(name, 0)
#define SDA_REAL_OR_NULL(name) SDA_REAL_LOOKUP_(name, 1)

#endif
