/* SPDX-License-Identifier: MIT */
#include "handdown.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "env.h"
#include "fork.h"
#include "inherited.h"
#include "lock.h"
#include "log.h"

static char **handed_down;             /* the environment exec was given */
static size_t handed_len;

static int set_cloexec_all(int on)
{
	for (size_t i = 0; i < sda_inh.n; i++)
		if (fcntl(SDA_LISTEN_FDS_START + (int)i, F_SETFD, on ? FD_CLOEXEC : 0) < 0)
			return -1;
	return 0;
}

char *const *sda_exec_env(char *const envp[], const char *what)
{
	sigset_t mask;
	int saved = errno;
	size_t n = 0, k = 0;
	char **out;

	handed_down = NULL;
	if (!sda_activated() || sda_self() != sda_inh.act_pid || atomic_load(&sda_inh.adopted_any) ||
	    !envp)
		return envp;
	sda_lock(&mask);
	for (size_t i = 0; i < sda_inh.n; i++)
		if (sda_inh.fds[i] >= 0 && sda_inh.fds[i] != SDA_LISTEN_FDS_START + (int)i) {
			sda_unlock(&mask);
			return envp;             /* moved: cannot pass them as fds 3.. */
		}
	sda_unlock(&mask);
	while (envp[n])
		n++;
	handed_len = (n + 5) * sizeof(char *);
	out = mmap(NULL, handed_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		sda_warn("exec %s: cannot hand the inherited sockets on: mmap: %s", what,
			 strerrorname_np(errno));
		errno = saved;
		return envp;
	}
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], "LISTEN_", 7) != 0)
			out[k++] = envp[i];
	for (size_t i = 0; i < 4 && sda_inh.listen_env[i]; i++)
		out[k++] = (char *)sda_inh.listen_env[i];
	out[k] = NULL;
	set_cloexec_all(0);
	handed_down = out;
	sda_debug("exec %s before any bind: handing the %zu inherited fds on unchanged", what, sda_inh.n);
	errno = saved;
	return out;
}

void sda_exec_failed(void)
{
	int saved = errno;

	if (handed_down) {
		set_cloexec_all(1);
		munmap(handed_down, handed_len);
	}
	handed_down = NULL;
	errno = saved;
}
