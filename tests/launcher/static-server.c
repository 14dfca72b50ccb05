/* SPDX-License-Identifier: MIT */
/* static-server: a small TCP server for tests/launcher, linked -static so
 * that LD_PRELOAD cannot reach it.  Usage: static-server IP PORT [MODE]
 * It binds IP:PORT itself (as an unmodified server does), prints
 * "listening fd=N ino=INO pid=P", and answers each connection with
 * "hello from static-server ino=INO\n".  MODE:
 *   serve     (default) serve until a signal ends it (default dispositions)
 *   exit42    on SIGTERM exit with status 42
 *   thread    bind in a second thread
 *   prefork   two workers accept after the fork; each adds its pid */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ip;
static int port, lfd = -1;
static unsigned long ino;

static void on_term(int sig)
{
	(void)sig;
	_exit(42);
}

static void *do_bind(void *unused)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	struct stat st;

	(void)unused;
	memset(&ss, 0, sizeof(ss));
	if (ip[0] == '/' || ip[0] == '@') {
		struct sockaddr_un *s = (struct sockaddr_un *)&ss;
		size_t n = strlen(ip);

		s->sun_family = AF_UNIX;
		memcpy(s->sun_path, ip, n);
		if (ip[0] == '@')
			s->sun_path[0] = '\0';
		else if (unlink(ip) < 0 && errno != ENOENT) /* a stale file, as servers do */
			perror("static-server: unlink");
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (ip[0] == '/'));
	} else if (strchr(ip, ':')) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, ip, &s->sin_addr);
		len = sizeof(*s);
	}
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("static-server: socket");
		exit(3);
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "static-server: bind %s:%d failed: %s\n", ip, port, strerror(errno));
		fflush(stderr);
		exit(3);
	}
	if (listen(lfd, 16) < 0) {
		perror("static-server: listen");
		exit(3);
	}
	if (fstat(lfd, &st) == 0)
		ino = (unsigned long)st.st_ino;
	return NULL;
}

static void serve(void)
{
	for (;;) {
		char msg[128];
		int c = accept(lfd, NULL, NULL), n;

		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("static-server: accept");
			exit(4);
		}
		n = snprintf(msg, sizeof(msg), "hello from static-server ino=%lu pid=%ld\n", ino,
			     (long)getpid());
		if (write(c, msg, (size_t)n) < 0)
			perror("static-server: write");
		close(c);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 3 ? argv[3] : "serve";

	if (argc < 3) {
		fprintf(stderr, "usage: static-server IP PORT [serve|exit42|thread|prefork]\n");
		return 2;
	}
	ip = argv[1];
	port = atoi(argv[2]);
	if (!strcmp(mode, "exit42"))
		signal(SIGTERM, on_term);
	if (!strcmp(mode, "thread")) {
		pthread_t t;

		if (pthread_create(&t, NULL, do_bind, NULL) != 0 || pthread_join(t, NULL) != 0)
			return 5;
	} else {
		do_bind(NULL);
	}
	printf("listening fd=%d ino=%lu pid=%ld\n", lfd, ino, (long)getpid());
	fflush(stdout);
	if (!strcmp(mode, "prefork")) {
		for (int i = 0; i < 2; i++)
			if (fork() == 0) {
				/* workers end with the master (SIGTERM: exit 42) */
				prctl(PR_SET_PDEATHSIG, SIGTERM);
				if (getppid() == 1)
					_exit(0);
				serve();
			}
		signal(SIGTERM, on_term);
		for (;;)
			pause();
	}
	serve();
}
