/* SPDX-License-Identifier: MIT */
/* handdown: exec in the activated process itself, before anything was
 * adopted (a wrapper such as `sh -c 'exec server'`, env(1), a version
 * manager's shim), hands the sockets on as systemd gave them. */
#ifndef SDA_HANDDOWN_H
#define SDA_HANDDOWN_H

/* The environment to exec with: envp itself, or a copy (mmap'ed: no malloc,
 * no stack) with the original LISTEN_* entries put back; the inherited fds
 * lose FD_CLOEXEC.  sda_exec_failed() undoes both when the exec returns. */
char *const *sda_exec_env(char *const envp[], const char *what);
void sda_exec_failed(void);

#endif
