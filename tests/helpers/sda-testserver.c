/* SPDX-License-Identifier: MIT */
/* sda-testserver: a legacy-style server whose behaviour is a list of steps.
 *
 * Each step runs in order and reports what it saw as one line on stdout
 * ("WORD key=value ..."), so tests can assert facts instead of timing.
 * Waits are bounded (poll with STEP_TIMEOUT_MS).
 *
 *   nonblock | cloexec | reuseport    flags for the next `bind`'s socket
 *   bind SPEC        socket()+bind(); the socket becomes the current fd
 *                    -> bound fd=N ino=I | bind-error err=ENAME
 *   listen N         -> listened fd=N | listen-error fd=N err=ENAME
 *   flags            -> flags fd=N cloexec=0|1 nonblock=0|1
 *   name             -> sockname fd=N family=F addr=A
 *   serve            accept one connection (or receive one datagram) on the
 *                    current fd and answer "echo:DATA"
 *                    -> served fd=N family=F peer=A | serve-error what=W err=E
 *   close            -> closed fd=N rc=R
 *   daemon METHOD    double fork; the grandchild closes every fd >= 3 with
 *                    METHOD (loop, close_range, closefrom) and goes on
 *                    -> daemon pid=P method=M
 *   dup2 N | dup3 N  dup2(an fd of /dev/null, N), or dup3(.., O_CLOEXEC)
 *                    -> dup2 fd=N rc=R err=E chr=0|1 (chr: N is /dev/null now)
 *   unlink PATH | unlinkat PATH | remove PATH
 *                    -> unlinked path=P rc=R err=E
 *   env              -> env VAR=VALUE per LISTEN_* variable; env-end count=K
 *   fds              -> fd n=N ino=I cloexec=C per open fd >= 3; fds-end
 *   exec-fds         run a fresh exec of this program that reports its open
 *                    fds >= 3 -> child-fd n=N ino=I ...; child-fds-end
 *   threads N SPEC.. N threads bind one SPEC each, all at once
 *                    -> bound fd=N ino=I thread=T (each); threads-end ok=K
 *   wait             -> waiting; then block until a line or EOF on stdin
 *   exec STEP...     exec this program in place (same pid) with the
 *                    remaining steps -> exec pid=P (then the new image's lines)
 *   pid              -> pid pid=P
 *   chdir DIR        -> chdir rc=R
 *   loaded           is libsdadopt mapped in this process? -> loaded sdadopt=0|1
 *   open-close       open /dev/null, close it, and check the fd is gone
 *                    -> openclose fd=N still_open=0|1
 * At the end: done. */
#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STEP_TIMEOUT_MS 10000
#define MAX_THREADS 64

extern char **environ;

static int cur = -1;            /* the current socket */
static int next_flags;          /* SOCK_NONBLOCK / SOCK_CLOEXEC for the next bind */
static int next_reuseport;

/* One line, one write(2): lines from threads and processes never mix. */
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, (size_t)n) < 0)
		_exit(3);
}

static const char *ename(int e)
{
	const char *s = strerrorname_np(e);
	return s ? s : "E?";
}

static unsigned long long inode_of(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

static void usage_error(const char *what)
{
	fprintf(stderr, "sda-testserver: %s\n", what);
	exit(2);
}

/* socket() + bind() of spec; returns the fd or -errno. */
static int bind_spec(const char *text, int flags, int reuseport)
{
	struct spec sp;
	int one = 1;

	if (spec_parse(text, &sp) < 0)
		usage_error("bad spec");
	int fd = socket(sp.family, sp.type | flags, 0);
	if (fd < 0)
		return -errno;
	if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
	    (sp.v6only >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &sp.v6only, sizeof sp.v6only) < 0) ||
	    bind(fd, (struct sockaddr *)&sp.ss, sp.len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void step_bind(const char *text)
{
	int fd = bind_spec(text, next_flags, next_reuseport);

	next_flags = next_reuseport = 0;
	if (fd < 0) {
		say("bind-error err=%s", ename(-fd));
		cur = -1;
		return;
	}
	cur = fd;
	say("bound fd=%d ino=%llu", fd, inode_of(fd));
}

static void step_serve(void)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof peer;
	struct pollfd p = { .fd = cur, .events = POLLIN };
	char buf[512], reply[600], text[256];
	int type;
	socklen_t tlen = sizeof type;
	ssize_t n;

	if (getsockopt(cur, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0) {
		say("serve-error what=so_type err=%s", ename(errno));
		return;
	}
	if (poll(&p, 1, STEP_TIMEOUT_MS) != 1) {
		say("serve-error what=timeout err=none");
		return;
	}
	if (type == SOCK_DGRAM) {
		n = recvfrom(cur, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
		if (n < 0) {
			say("serve-error what=recvfrom err=%s", ename(errno));
			return;
		}
		int m = snprintf(reply, sizeof reply, "echo:%.*s", (int)n, buf);
		if (sendto(cur, reply, (size_t)m, 0, (struct sockaddr *)&peer, plen) < 0) {
			say("serve-error what=sendto err=%s", ename(errno));
			return;
		}
	} else {
		int c = accept4(cur, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		if (c < 0) {
			say("serve-error what=accept err=%s", ename(errno));
			return;
		}
		struct pollfd pc = { .fd = c, .events = POLLIN };
		n = poll(&pc, 1, STEP_TIMEOUT_MS) == 1 ? read(c, buf, sizeof buf - 1) : -1;
		if (n > 0) {
			int m = snprintf(reply, sizeof reply, "echo:%.*s", (int)n, buf);
			n = write(c, reply, (size_t)m);
		}
		close(c);
		if (n <= 0) {
			say("serve-error what=read-write err=%s", n < 0 ? ename(errno) : "eof");
			return;
		}
	}
	say("served fd=%d family=%s peer=%s", cur, family_name(peer.ss_family),
	    addr_text((struct sockaddr *)&peer, plen, text, sizeof text));
}

static void close_all_from_3(const char *method)
{
	if (!strcmp(method, "loop")) {
		long max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (int fd = 3; fd < max; fd++)
			close(fd);
	} else if (!strcmp(method, "close_range")) {
		if (close_range(3, ~0U, 0) < 0)
			say("close_range-error err=%s", ename(errno));
	} else if (!strcmp(method, "closefrom")) {
		closefrom(3);
	} else {
		usage_error("daemon: method is loop, close_range or closefrom");
	}
}

static void step_daemon(const char *method)
{
	pid_t pid = fork();

	if (pid < 0)
		usage_error("fork failed");
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	setsid();
	pid = fork();
	if (pid < 0)
		_exit(3);
	if (pid > 0)
		_exit(0);
	close_all_from_3(method);
	say("daemon pid=%ld method=%s", (long)getpid(), method);
}

static void step_dup(int target, int use_dup3)
{
	struct stat st;
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int r = use_dup3 ? dup3(nul, target, O_CLOEXEC) : dup2(nul, target);
	int e = errno;

	close(nul);
	say("dup2 fd=%d rc=%d err=%s chr=%d", target, r, r < 0 ? ename(e) : "none",
	    fstat(target, &st) == 0 && S_ISCHR(st.st_mode));
}

/* Open fds >= 3 as lines "PREFIX n=N ino=I cloexec=C", from /proc/self/fd. */
static void report_fds(const char *prefix)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[1024], n = 0;
	struct dirent *de;

	if (!d) {
		say("%s-error err=%s", prefix, ename(errno));
		return;
	}
	while ((de = readdir(d)) && n < 1024) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd >= 3 && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		int fl = fcntl(fds[i], F_GETFD);
		say("%s n=%d ino=%llu cloexec=%d", prefix, fds[i], inode_of(fds[i]),
		    fl >= 0 && (fl & FD_CLOEXEC));
	}
}

static void step_exec_fds(void)
{
	pid_t pid = fork();

	if (pid < 0)
		usage_error("fork failed");
	if (pid == 0) {
		execl("/proc/self/exe", "sda-testserver", "child-fds", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

struct thread_arg {
	pthread_barrier_t *barrier;
	const char *spec;
	int index, fd;
};

static void *thread_bind(void *p)
{
	struct thread_arg *a = p;

	pthread_barrier_wait(a->barrier);
	a->fd = bind_spec(a->spec, SOCK_CLOEXEC, 0);
	if (a->fd >= 0)
		say("bound fd=%d ino=%llu thread=%d", a->fd, inode_of(a->fd), a->index);
	else
		say("bind-error err=%s thread=%d", ename(-a->fd), a->index);
	return NULL;
}

static void step_threads(int n, char **specs)
{
	pthread_t tid[MAX_THREADS];
	struct thread_arg args[MAX_THREADS];
	pthread_barrier_t barrier;
	int ok = 0;

	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		args[i] = (struct thread_arg){ .barrier = &barrier, .spec = specs[i], .index = i };
		if (pthread_create(&tid[i], NULL, thread_bind, &args[i]) != 0)
			usage_error("pthread_create failed");
	}
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		ok += args[i].fd >= 0;
	}
	pthread_barrier_destroy(&barrier);
	say("threads-end ok=%d", ok);
}

static void step_env(void)
{
	int count = 0;

	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "LISTEN_", 7)) {
			say("env %s", *e);
			count++;
		}
	say("env-end count=%d", count);
}

static void step_wait(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[64];

	say("waiting");
	if (poll(&p, 1, 2 * STEP_TIMEOUT_MS) == 1 && read(STDIN_FILENO, buf, sizeof buf) < 0)
		say("wait-error err=%s", ename(errno));
}

/* Steps that act on the current fd report "skip" when there is none. */
static int need_cur(const char *step)
{
	if (cur < 0)
		say("skip step=%s", step);
	return cur >= 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(s, "nonblock")) {
			next_flags |= SOCK_NONBLOCK;
		} else if (!strcmp(s, "cloexec")) {
			next_flags |= SOCK_CLOEXEC;
		} else if (!strcmp(s, "reuseport")) {
			next_reuseport = 1;
		} else if (!strcmp(s, "bind") && arg) {
			step_bind(arg);
			i++;
		} else if (!strcmp(s, "listen") && arg) {
			i++;
			if (!need_cur(s))
				continue;
			if (listen(cur, atoi(arg)) == 0)
				say("listened fd=%d", cur);
			else
				say("listen-error fd=%d err=%s", cur, ename(errno));
		} else if (!strcmp(s, "flags")) {
			if (!need_cur(s))
				continue;
			say("flags fd=%d cloexec=%d nonblock=%d", cur, !!(fcntl(cur, F_GETFD) & FD_CLOEXEC),
			    !!(fcntl(cur, F_GETFL) & O_NONBLOCK));
		} else if (!strcmp(s, "name")) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof ss;
			char text[256];
			if (!need_cur(s))
				continue;
			if (getsockname(cur, (struct sockaddr *)&ss, &len) < 0)
				say("sockname-error fd=%d err=%s", cur, ename(errno));
			else
				say("sockname fd=%d family=%s addr=%s", cur, family_name(ss.ss_family),
				    addr_text((struct sockaddr *)&ss, len, text, sizeof text));
		} else if (!strcmp(s, "serve")) {
			if (need_cur(s))
				step_serve();
		} else if (!strcmp(s, "close")) {
			if (!need_cur(s))
				continue;
			say("closed fd=%d rc=%d", cur, close(cur));
			cur = -1;
		} else if (!strcmp(s, "daemon") && arg) {
			step_daemon(arg);
			i++;
		} else if ((!strcmp(s, "dup2") || !strcmp(s, "dup3")) && arg) {
			step_dup(atoi(arg), s[3] == '3');
			i++;
		} else if ((!strcmp(s, "unlink") || !strcmp(s, "unlinkat") || !strcmp(s, "remove")) && arg) {
			int r = s[0] == 'r' ? remove(arg) : s[6] ? unlinkat(AT_FDCWD, arg, 0) : unlink(arg);
			say("unlinked path=%s rc=%d err=%s", arg, r, r < 0 ? ename(errno) : "none");
			i++;
		} else if (!strcmp(s, "env")) {
			step_env();
		} else if (!strcmp(s, "fds")) {
			report_fds("fd");
			say("fds-end");
		} else if (!strcmp(s, "exec-fds")) {
			step_exec_fds();
		} else if (!strcmp(s, "child-fds")) {
			report_fds("child-fd");
			say("child-fds-end");
			return 0; /* an exec'd reporter, not a server: no "done" */
		} else if (!strcmp(s, "threads") && arg) {
			int n = atoi(arg);
			if (n < 1 || n > MAX_THREADS || i + 1 + n >= argc)
				usage_error("threads N SPEC... (1 <= N <= 64 specs)");
			step_threads(n, argv + i + 2);
			i += 1 + n;
		} else if (!strcmp(s, "wait")) {
			step_wait();
		} else if (!strcmp(s, "exec")) {
			say("exec pid=%ld", (long)getpid());
			argv[i] = "sda-testserver"; /* argv[0] of the new image */
			execv("/proc/self/exe", argv + i);
			say("exec-error err=%s", ename(errno));
			return 1;
		} else if (!strcmp(s, "loaded")) {
			char line[4096];
			int found = 0;
			FILE *maps = fopen("/proc/self/maps", "re");
			while (maps && !found && fgets(line, sizeof line, maps))
				found = strstr(line, "libsdadopt") != NULL;
			if (maps)
				fclose(maps);
			say("loaded sdadopt=%d", found);
		} else if (!strcmp(s, "chdir") && arg) {
			say("chdir rc=%d", chdir(arg));
			i++;
		} else if (!strcmp(s, "open-close")) {
			int fd = open("/dev/null", O_RDONLY);
			close(fd);
			say("openclose fd=%d still_open=%d", fd, fcntl(fd, F_GETFD) >= 0);
		} else if (!strcmp(s, "pid")) {
			say("pid pid=%ld", (long)getpid());
		} else {
			fprintf(stderr, "sda-testserver: unknown step or missing argument: %s\n", s);
			return 2;
		}
	}
	say("done");
	return 0;
}
