/* SPDX-License-Identifier: MIT */
/* sys: the system calls of the activation path (constructor, exit report),
 * made through syscall(2), which the shim calls anyway: each libc wrapper
 * lives on its own page of libc, and on a first call that page is faulted
 * in, which costs more than the call (about 5 us a fault measured on a
 * virtual machine of CI's kind), and a first call binds it lazily.  The
 * log's writes too (from any hook: no cancellation point while the lock
 * may be held).  The hooks' own paths use libc as usual. */
#ifndef SDA_SYS_H
#define SDA_SYS_H

#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline void *sda_sys_mmap(size_t len, int prot, int flags)
{
	return (void *)syscall(SYS_mmap, NULL, len, prot, flags, -1, (off_t)0);
}

static inline int sda_sys_fcntl(int fd, int cmd, long arg)
{
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static inline int sda_sys_poll(struct pollfd *p, size_t n, int timeout)
{
	return (int)syscall(SYS_poll, p, n, timeout);
}

static inline int sda_sys_nofile(struct rlimit *rl)
{
	return (int)syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, rl);
}

static inline ssize_t sda_sys_write(int fd, const void *b, size_t n)
{
	return (ssize_t)syscall(SYS_write, fd, b, n);
}

static inline ssize_t sda_sys_send(int fd, const void *b, size_t n, int flags)
{
	return (ssize_t)syscall(SYS_sendto, fd, b, n, flags, NULL, 0);
}

static inline int sda_sys_mincore(void *a, size_t len, unsigned char *v)
{
	return (int)syscall(SYS_mincore, a, len, v);
}

#endif
