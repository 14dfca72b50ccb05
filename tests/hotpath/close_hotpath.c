/* SPDX-License-Identifier: MIT */
/* The close() hook allocates nothing and takes no lock, on every kind of fd:
 * an adopted one, a plain one, a bad one, a number beyond the table.  The
 * registry's own fd 3 is the one cold path: the program's close(3) moves the
 * registry's copy far up and closes 3 (as the program asked), once; after
 * that 3 is a closed number like any other, and adoption still works.
 *
 *   close_hotpath SHIM SPY     activates itself (a listening socket at fd 3,
 *                              LISTEN_* naming its own pid) and re-execs under
 *                              LD_PRELOAD=SHIM:SPY, as systemd would start it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAIL(...) do { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

static int activate(char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t l = sizeof(sa);
	char pre[4096], pid[32];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &l) < 0)
		FAIL("cannot make the activated socket: %s", strerror(errno));
	if (fd != 3 && (dup2(fd, 3) < 0 || close(fd) < 0))
		FAIL("dup2");
	snprintf(pre, sizeof(pre), "%s:%s", argv[1], argv[2]);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LD_PRELOAD", pre, 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("SDADOPT_LOG", "warning", 1);
	setenv("CLOSE_HOTPATH_PORT", "x", 1);
	char port[16];
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	setenv("CLOSE_HOTPATH_PORT", port, 1);
	execv("/proc/self/exe", argv);
	FAIL("exec: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	void (*arm)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "spy_arm");
	void (*counts)(unsigned long *, unsigned long *) =
		(void (*)(unsigned long *, unsigned long *))dlsym(RTLD_DEFAULT, "spy_counts");
	struct sockaddr_in sa = { .sin_family = AF_INET };
	unsigned long a0, l0, a1, l1;
	struct stat st3, stapp;
	int app, plain;

	if (argc != 3)
		FAIL("usage: close_hotpath SHIM SPY");
	if (!getenv("CLOSE_HOTPATH_PORT"))
		return activate(argv);
	if (!arm || !counts)
		FAIL("the spy library is not preloaded");

	/* adopt fd 3's socket, so that there is an adopted fd to close too */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)atoi(getenv("CLOSE_HOTPATH_PORT")));
	app = socket(AF_INET, SOCK_STREAM, 0);
	if (app < 0 || bind(app, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		FAIL("bind of the activated address: %s", strerror(errno));
	if (fstat(3, &st3) < 0 || fstat(app, &stapp) < 0 || st3.st_ino != stapp.st_ino)
		FAIL("not adopted: the shim is not active");
	plain = open("/dev/null", O_RDONLY);

	/* the cold path, once: fd 3 is closed as far as the program can tell */
	if (close(3) != 0)
		FAIL("close(3) of the registry's fd failed: %s", strerror(errno));
	if (fcntl(3, F_GETFD) >= 0 || errno != EBADF)
		FAIL("fd 3 is still open after the program closed it");

	counts(&a0, &l0);
	arm(1);
	for (int i = 0; i < 1000; i++)
		if (close(3) != -1 || errno != EBADF)      /* closed: EBADF, as without the shim */
			FAIL("a second close(3) did not fail with EBADF");
	(void)close(app);                        /* adopted */
	(void)close(plain);                      /* plain */
	(void)close(-1);                         /* bad */
	(void)close(1 << 20);                    /* beyond the table */
	arm(0);
	counts(&a1, &l1);

	if (fcntl(app, F_GETFD) >= 0 || fcntl(plain, F_GETFD) >= 0)
		FAIL("close() of an adopted or plain fd did not close it");
	if (a1 != a0)
		FAIL("close() allocated %lu times", a1 - a0);
	if (l1 != l0)
		FAIL("close() took a lock %lu times", l1 - l0);
	/* the spy itself works: a lock taken by the shim elsewhere is seen; and
	 * the registry kept the socket (moved, not closed): it is adopted again */
	arm(1);
	app = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(app, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		FAIL("second adoption: %s", strerror(errno));
	if (fstat(app, &stapp) < 0 || stapp.st_ino != st3.st_ino)
		FAIL("the second bind did not get the inherited socket: the registry lost it");
	arm(0);
	counts(&a1, &l1);
	if (l1 == l0)
		FAIL("the spy saw no lock during an adoption: it cannot see the shim's calls");
	printf("close hot path: 0 allocations, 0 locks over 1004 calls; adoption took %lu locks\n",
	       l1 - l0);
	return 0;
}
