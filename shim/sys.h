/* SPDX-License-Identifier: MIT */
/* sys: the system calls of the activation path (constructor, log, exit
 * report), made directly: each libc wrapper lives on its own page of libc,
 * and on a first call that page is faulted in, which costs more than the
 * call (about 5 us a fault measured on a virtual machine of CI's kind), and
 * a first call binds it lazily.  A result is the kernel's own: >= 0, or
 * -errno; errno is not touched (its first use binds a libc function too).
 * No cancellation point: the log writes from hooks that may hold the lock.
 * The hooks' own paths use libc as usual. */
#ifndef SDA_SYS_H
#define SDA_SYS_H

#include <errno.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* x86-64 (the one architecture this is tested on) makes the call inline;
 * elsewhere syscall(2), with errno put back as it was. */
static inline long sda_sys(long nr, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
#else
	int saved = errno;
	long r = syscall(nr, a, b, c, d, e, f);

	if (r == -1) {
		r = -errno;
		errno = saved;
	}
	return r;
#endif
}
#define SDA_SYS0(nr) sda_sys((nr), 0, 0, 0, 0, 0, 0)
#define SDA_SYS(nr, a, b, c) sda_sys((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline pid_t sda_sys_getpid(void)
{
	return (pid_t)SDA_SYS0(SYS_getpid);
}

/* MAP_FAILED on failure */
static inline void *sda_sys_mmap(size_t len, int prot, int flags)
{
	long r = sda_sys(SYS_mmap, 0, (long)len, prot, flags, -1, 0);

	return (unsigned long)r > -4096UL ? MAP_FAILED : (void *)r;
}

static inline int sda_sys_munmap(void *p, size_t len)
{
	return (int)SDA_SYS(SYS_munmap, p, len, 0);
}

static inline int sda_sys_fcntl(int fd, int cmd, long arg)
{
	return (int)SDA_SYS(SYS_fcntl, fd, cmd, arg);
}

/* poll() with a zero timeout: which fds are open (POLLNVAL) */
static inline int sda_sys_poll_now(struct pollfd *p, size_t n)
{
	struct timespec zero = { 0, 0 };

	return (int)sda_sys(SYS_ppoll, (long)p, (long)n, (long)&zero, 0, 0, 0);
}

static inline int sda_sys_close_range(unsigned first, unsigned last, int flags)
{
	return (int)SDA_SYS(SYS_close_range, first, last, flags);
}

static inline int sda_sys_nofile(struct rlimit *rl)
{
	return (int)sda_sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)rl, 0, 0);
}

static inline ssize_t sda_sys_write(int fd, const void *b, size_t n)
{
	return (ssize_t)SDA_SYS(SYS_write, fd, b, n);
}

static inline ssize_t sda_sys_send(int fd, const void *b, size_t n, int flags)
{
	return (ssize_t)sda_sys(SYS_sendto, fd, (long)b, (long)n, flags, 0, 0);
}

static inline int sda_sys_mincore(void *a, size_t len, unsigned char *v)
{
	return (int)SDA_SYS(SYS_mincore, a, len, v);
}

#endif
