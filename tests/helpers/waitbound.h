/* SPDX-License-Identifier: MIT */
/* waitbound: the monotonic clock and a bounded wait for a child process,
 * shared by the test activator (sda-activate) and the hardening tests. */
#ifndef SDA_TEST_WAITBOUND_H
#define SDA_TEST_WAITBOUND_H

#include <sys/types.h>

/* CLOCK_MONOTONIC in milliseconds. */
long sda_now_ms(void);

/* Wait for the child pid at most timeout_ms (on its pidfd; without one, it
 * looks again every 5 ms); past that, say so on stderr as "WHO: timeout
 * ..." (when who is not NULL), kill it (SIGKILL) and reap it.  Returns its status as a shell gives it (the exit code, 128+signal), 124
 * when it was killed for the timeout, -1 (errno set) when waitpid() fails. */
int sda_wait_bounded(pid_t pid, long timeout_ms, const char *who);

#endif
