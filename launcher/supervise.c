/* SPDX-License-Identifier: MIT */
/* supervise: sdadopt stays the parent of what it runs (--explain, seccomp
 * mode).  The signals it handles are blocked before the fork, so none is
 * lost; in the parent they come through a signalfd, each goes on to the
 * child (as the caller's hook decides) until the child has exited, and the
 * child's exit status is collected (128+N for signal N).  What differs
 * between the users, their own fd to serve (the program's stderr pipe, the
 * seccomp listener), timers and when to stop, is in their hooks. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

static void blocked_set(const struct ln_supervise *s, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (const int *sig = s->signals; sig && *sig; sig++)
		sigaddset(set, *sig);
}

pid_t ln_supervise_fork(struct ln_supervise *s)
{
	sigset_t set;
	pid_t child;

	blocked_set(s, &set);
	sigprocmask(SIG_BLOCK, &set, &s->old);
	fflush(NULL);
	child = fork();
	if (child < 0)
		ln_die(EX_OSERR_, "fork: %s", strerror(errno));
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &s->old, NULL);
		return 0;
	}
	s->child = child;
	s->exited = 0;
	s->status = 0;
	return child;
}

/* Reap every child that has exited (ours, and any the process had before
 * it became sdadopt): one wait for all, so that ours is never reaped
 * without its status being kept. */
static void reap(struct ln_supervise *s)
{
	pid_t r;
	int st;

	while ((r = waitpid(-1, &st, WNOHANG)) > 0)
		if (r == s->child && !s->exited) {
			s->exited = 1;
			s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
}

static void on_signals(struct ln_supervise *s, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(s);
		else if (!s->exited && (!s->forwards || s->forwards(&si)))
			kill(s->child, (int)si.ssi_signo);
	}
}

int ln_supervise_run(struct ln_supervise *s)
{
	sigset_t set;
	int sfd;

	blocked_set(s, &set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		ln_die(EX_OSERR_, "signalfd: %s", strerror(errno));
	for (;;) {
		struct pollfd pf[2];
		int timeout = -1;

		/* the hook says whether to stop and how long to wait; its fd
		 * may be -1 by now */
		if (s->before_wait ? s->before_wait(s, &timeout) : s->exited)
			break;
		pf[0] = (struct pollfd){.fd = s->fd, .events = POLLIN};
		pf[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
		if (poll(pf, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].fd >= 0 && pf[0].revents && s->on_fd)
			s->on_fd(s, pf[0].revents);
		if (pf[1].revents & POLLIN)
			on_signals(s, sfd);
	}
	close(sfd);
	return s->status;
}
