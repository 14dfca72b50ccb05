/* SPDX-License-Identifier: MIT */
/* dlsymcost: µs for resolving, cold (first time in a fresh process), the
 * names the shim hooks with dlsym(RTLD_NEXT), as its constructor does.
 * Prints "cold_us=..." and "warm_us=..." (the same 21 look-ups again). */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

static const char *names[] = {
	"socket", "bind", "listen", "close", "close_range", "closefrom", "dup2",
	"dup3", "unlink", "unlinkat", "remove", "accept", "accept4", "getsockname",
	"getpeername", "recvfrom", "recvmsg", "execve", "execvpe", "fexecve", "setsockopt",
};

static double us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(void)
{
	volatile void *p = NULL;
	double t0, t1, t2;

	t0 = us();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		p = dlsym(RTLD_NEXT, names[i]);
	t1 = us();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		p = dlsym(RTLD_NEXT, names[i]);
	t2 = us();
	(void)p;
	printf("cold_us=%.2f\nwarm_us=%.2f\n", t1 - t0, t2 - t1);
	return 0;
}
