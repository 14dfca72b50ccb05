/* SPDX-License-Identifier: MIT */
/* hard-execstack: execve() from a thread with a small stack and a large
 * environment, as a thread pool worker of a server might.  The kernel copies
 * the environment itself; a hook that copies it onto the caller's stack
 * (a VLA of one pointer per variable) overflows that stack.
 *
 *   hard-execstack [NVARS] [STACK_KIB]   (default 8192 variables, 64 KiB)
 * Execs /bin/true with NVARS extra variables from a STACK_KIB thread; exits
 * with true's status (0), or dies with SIGSEGV if the hook overflows. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char **env;

static void *worker(void *arg)
{
	char *argv[] = { "true", NULL };

	(void)arg;
	execve("/bin/true", argv, env);
	perror("execve");
	exit(2);
}

int main(int argc, char **argv)
{
	long nvars = argc > 1 ? atol(argv[1]) : 8192, kib = argc > 2 ? atol(argv[2]) : 64;
	pthread_attr_t a;
	pthread_t t;
	size_t n = 0;

	while (environ[n])
		n++;
	env = calloc(n + (size_t)nvars + 1, sizeof(*env));
	if (!env)
		return 2;
	memcpy(env, environ, n * sizeof(*env));
	for (long i = 0; i < nvars; i++)
		if (asprintf(&env[n + (size_t)i], "SDA_HARD_VAR_%ld=x", i) < 0)
			return 2;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, (size_t)kib * 1024);
	if (pthread_create(&t, &a, worker, NULL) != 0)
		return 2;
	pthread_join(t, NULL);
	return 3;
}
