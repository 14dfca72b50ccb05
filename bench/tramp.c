/* SPDX-License-Identifier: MIT */
/* The smallest possible close()/bind() interposer: each only calls the next
 * definition.  Preloaded under hookcost it measures what interposing a
 * function costs at all on this machine (the PLT jump into the library and
 * the indirect call onward), the floor under the shim's hooks. */
#include <dlfcn.h>
#include <sys/socket.h>

static int (*next_close)(int);
static int (*next_bind)(int, const struct sockaddr *, socklen_t);

__attribute__((constructor)) static void init(void)
{
	*(void **)&next_close = dlsym(RTLD_NEXT, "close");
	*(void **)&next_bind = dlsym(RTLD_NEXT, "bind");
}

int close(int fd)
{
	return next_close(fd);
}

int bind(int fd, const struct sockaddr *a, socklen_t l)
{
	return next_bind(fd, a, l);
}
