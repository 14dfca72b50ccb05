/* SPDX-License-Identifier: MIT */
#include "waitbound.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long sda_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int sda_wait_bounded(pid_t pid, long timeout_ms, const char *who)
{
	long deadline = sda_now_ms() + timeout_ms;
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status = 0, timed_out = 0, err = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			err = errno;
			break;
		}
		long left = deadline - sda_now_ms();
		if (left <= 0) {
			if (who)
				fprintf(stderr, "%s: timeout after %ld ms, killing pid %ld\n", who, timeout_ms,
					(long)pid);
			kill(pid, SIGKILL);
			timed_out = 1;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			poll(&p, 1, (int)(left < 1000 ? left : 1000));
		} else {
			/* No pidfd (old kernel): check again in a few ms. */
			struct timespec ts = { 0, 5 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (err) {
		errno = err;
		return -1;
	}
	if (timed_out)
		return 124;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
