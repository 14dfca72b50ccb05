/* SPDX-License-Identifier: MIT */
/* idle: the memory benchmark's process.  Does what a server does before it
 * waits (one bind() of its own, which makes the shim probe and index the
 * inherited sockets), prints "ready" and blocks until stdin closes, so its
 * VmRSS can be read from /proc/PID/status. */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char c;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 1;
	if (write(1, "ready\n", 6) != 6)
		return 1;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
