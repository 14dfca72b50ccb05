/* SPDX-License-Identifier: MIT */
/* exec: set the SDADOPT_* variables and replace this process with COMMAND,
 * or with systemd-socket-activate (--activator ssa). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launcher.h"

extern char **environ;

void ln_export_settings(const struct opts *o)
{
	if (o->nmap) {
		char *m = ln_join(o->map, o->nmap, ",");

		setenv("SDADOPT_MAP", m, 1);
		free(m);
	}
	if (o->log && *o->log)
		setenv("SDADOPT_LOG", o->log, 1);
	if (o->match && *o->match)
		setenv("SDADOPT_MATCH", o->match, 1);
	if (o->strict)
		setenv("SDADOPT_STRICT", "1", 1);
	if (o->explain)
		setenv("SDADOPT_LOG", "debug", 1);
}

void ln_exec(const struct target *t, char **argv)
{
	char *word = argv[0];
	int e;

	argv[0] = (char *)t->word;
	execv(t->path, argv);
	e = errno;
	argv[0] = word;
	ln_err("%s: %s", t->path, strerror(e));
	exit(e == ENOENT ? EX_NOTFOUND_ : EX_NOEXEC_);
}

_Noreturn static void ssa_exec(const struct opts *o, char *const *cmd, const char *preload);

static int find_in_path(const char *word, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	int found = 0;

	copy = ln_strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, cap, "%s/%s", d, word);
		found = access(out, X_OK) == 0;
	}
	free(copy);
	return found;
}

void ln_exec_ssa(const struct opts *o, const struct target *t, const char *preload)
{
	char **cmd = ln_xrealloc(NULL, ((size_t)o->argc + 1) * sizeof(char *));

	cmd[0] = t->path;
	for (int i = 1; i <= o->argc; i++)
		cmd[i] = o->argv[i];
	ssa_exec(o, cmd, preload);
}

/* Seccomp mode under systemd-socket-activate: it starts sdadopt itself
 * (with the options that matter after activation) as the activated
 * process, which then supervises COMMAND. */
void ln_exec_ssa_self(const struct opts *o, const struct target *t, int debug)
{
	char self[4096], **cmd;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t k = 0;

	if (n <= 0)
		ln_die(EX_OSERR_, "/proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	cmd = ln_xrealloc(NULL, (12 + 2 * o->nmap + (size_t)o->argc) * sizeof(char *));
	cmd[k++] = ln_strdup(self);
	cmd[k++] = "--seccomp";
	for (size_t i = 0; i < o->nmap; i++) {
		cmd[k++] = "--map";
		cmd[k++] = o->map[i];
	}
	if (debug) {
		cmd[k++] = "--log";
		cmd[k++] = "debug";
	} else if (o->log && *o->log) {
		cmd[k++] = "--log";
		cmd[k++] = (char *)o->log;
	}
	if (o->match && *o->match) {
		cmd[k++] = "--match";
		cmd[k++] = (char *)o->match;
	}
	if (o->strict)
		cmd[k++] = "--strict";
	cmd[k++] = "--";
	cmd[k++] = t->path;
	for (int i = 1; i <= o->argc; i++)
		cmd[k++] = o->argv[i];
	ssa_exec(o, cmd, NULL);
}

_Noreturn static void ssa_exec(const struct opts *o, char *const *cmd, const char *preload)
{
	char ssa[4096], **av;
	size_t n = 0, cap, nenv = 0, ncmd = 0;

	if (!find_in_path("systemd-socket-activate", ssa, sizeof(ssa)))
		ln_die(EX_UNAVAILABLE_, "--activator ssa: systemd-socket-activate not found (package systemd)");
	for (char **e = environ; *e; e++)
		nenv++;
	while (cmd[ncmd])
		ncmd++;
	cap = 8 + 2 * o->nlisten + 2 * nenv + ncmd + 4;
	av = ln_xrealloc(NULL, cap * sizeof(char *));
	av[n++] = "systemd-socket-activate";
	if (o->socktype == SOCK_DGRAM)
		av[n++] = "--datagram";
	if (o->socktype == SOCK_SEQPACKET)
		av[n++] = "--seqpacket";
	for (size_t i = 0; i < o->nlisten; i++) {
		av[n++] = "-l";
		av[n++] = o->listen[i];
	}
	if (o->nfdnames) {
		/* one name per socket, as systemd-socket-activate wants */
		size_t len = 16;
		char *s;

		for (size_t i = 0; i < o->nlisten; i++)
			len += (i < o->nfdnames ? strlen(o->fdnames[i]) : 7) + 1;
		s = ln_xrealloc(NULL, len);
		strcpy(s, "--fdname=");
		for (size_t i = 0; i < o->nlisten; i++) {
			if (i)
				strcat(s, ":");
			strcat(s, i < o->nfdnames ? o->fdnames[i] : "unknown");
		}
		av[n++] = s;
	}
	/* systemd-socket-activate passes on only PATH, TERM, USER, HOME and -E:
	 * hand it every variable, and ours */
	for (char **e = environ; *e; e++) {
		static const char *const skip[] = {"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=",
						   "LISTEN_PIDFDID=", "LD_PRELOAD="};
		int drop = 0;

		/* (LD_PRELOAD: ours, or in seccomp mode the caller's, unchanged) */
		for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]) - (preload ? 0 : 1); i++)
			drop |= !strncmp(*e, skip[i], strlen(skip[i]));
		if (drop || !strchr(*e, '='))
			continue;
		av[n++] = "-E";
		av[n++] = *e;
	}
	if (preload) {
		av[n++] = "-E";
		av[n++] = ln_asprintf("LD_PRELOAD=%s", preload);
	}
	av[n++] = "--";
	for (size_t i = 0; i < ncmd; i++)
		av[n++] = cmd[i];
	av[n] = NULL;
	execv(ssa, av);
	ln_die(EX_UNAVAILABLE_, "%s: %s", ssa, strerror(errno));
}
