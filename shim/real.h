/* SPDX-License-Identifier: MIT */
/* real: the table of the real (next) definitions of every hooked function. */
#ifndef SDA_REAL_H
#define SDA_REAL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SDA_EXPORT __attribute__((visibility("default")))

/* X-macro: return type, name, parameter list.  One list feeds the table,
 * the resolver and the allow-list test of exported symbols. */
#define SDA_REAL_FUNCS(X)                                                              \
	X(int, socket, (int, int, int))                                                \
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
	X(int, execve, (const char *, char *const[], char *const[]))                   \
	X(int, execvpe, (const char *, char *const[], char *const[]))                  \
	X(int, fexecve, (int, char *const[], char *const[]))

struct sda_real_table {
#define SDA_REAL_FIELD(ret, name, args) ret(*name) args;
	SDA_REAL_FUNCS(SDA_REAL_FIELD)
#undef SDA_REAL_FIELD
};

extern struct sda_real_table sda_real;

/* Resolve every pointer with dlsym(RTLD_NEXT) once (thread-safe). */
void sda_real_resolve(void);
/* Only close(), for an inert start: the other hooks resolve on first use. */
void sda_real_resolve_close(void);

/* The real function, resolving on first use (for hooks that may run before
 * our constructor).  Never used by close(), which falls back to the system
 * call instead: see hooks.c. */
#define SDA_REAL(name) (sda_real.name ? sda_real.name : (sda_real_resolve(), sda_real.name))

#endif
