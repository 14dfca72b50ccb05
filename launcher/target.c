/* SPDX-License-Identifier: MIT */
/* target: find the command, and read from its ELF file (through a script's
 * #! line) whether it can load the shim: dynamic or static, Go, secure
 * mode (setuid, setgid, file capabilities), class and machine. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "launcher.h"

/* PATH lookup as bash's `type -P`: the first executable regular file. */
static char *path_lookup(const char *word)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *found = NULL;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = ln_strdup(path);
	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *c = ln_asprintf("%s/%s", *d ? d : ".", word);
		struct stat st;

		if (stat(c, &st) == 0 && S_ISREG(st.st_mode) && access(c, X_OK) == 0)
			found = c;
		else
			free(c);
	}
	free(copy);
	return found;
}

void ln_resolve_command(struct target *t, const char *word)
{
	struct stat st;
	char *p;

	memset(t, 0, sizeof(*t));
	t->word = word;
	if (strchr(word, '/')) {
		if (stat(word, &st) != 0)
			ln_die(EX_NOTFOUND_, "%s: no such file", word);
		p = ln_strdup(word);
	} else {
		p = path_lookup(word);
		if (!p)
			ln_die(EX_NOTFOUND_, "%s: command not found", word);
		if (stat(p, &st) != 0)
			ln_die(EX_NOTFOUND_, "%s: command not found", word);
	}
	if (S_ISDIR(st.st_mode))
		ln_die(EX_NOEXEC_, "%s: is a directory", word);
	if (access(p, X_OK) != 0)
		ln_die(EX_NOEXEC_, "%s: permission denied (not executable)", word);
	if (p[0] != '/') {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd))) {
			char *a = ln_asprintf("%s/%s", cwd, p);

			free(p);
			p = a;
		}
	}
	t->path = p;
}

static void problem(struct target *t, char *line)
{
	t->problems = ln_xrealloc(t->problems, (t->nproblems + 1) * sizeof(char *));
	t->problems[t->nproblems++] = line;
}

/* The interpreter of a #! script, as the kernel and env(1) find it. */
static char *script_interp(const char *path)
{
	char line[512], *p, *interp, *rest;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (line[0] != '#' || line[1] != '!')
		return NULL;
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	p = line + 2;
	p += strspn(p, " \t");
	interp = p;
	p += strcspn(p, " \t");
	rest = *p ? p + 1 : p;
	*p = '\0';
	if (!*interp)
		return NULL;
	{
		const char *base = strrchr(interp, '/') ? strrchr(interp, '/') + 1 : interp;

		if (!strcmp(base, "env")) {
			char *save = NULL;

			for (char *w = strtok_r(rest, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
				if (w[0] == '-' || strchr(w, '='))
					continue;
				if (strchr(w, '/'))
					return access(w, F_OK) == 0 ? ln_strdup(w) : NULL;
				return path_lookup(w);
			}
			return NULL;
		}
	}
	return access(interp, F_OK) == 0 ? ln_strdup(interp) : NULL;
}

static void inspect_file(struct target *t, const char *f, const char *what, int depth)
{
	struct stat st;
	int fd = open(f, O_RDONLY | O_CLOEXEC), r;
	struct sda_elf_info *e = &t->elf;

	if (fd < 0) {
		ln_warn("%s: cannot read it to check that it can load the shim", what);
		return;
	}
	r = sda_elf_inspect(fd, e);
	if (r < 0) {
		char *interp;

		close(fd);
		if (r != -ENOEXEC) {
			ln_warn("%s: cannot read it to check that it can load the shim", what);
			return;
		}
		if (depth >= 3 || !(interp = script_interp(f)))
			return;
		{
			char *w = ln_asprintf("%s (a script run by %s)", what, interp);

			inspect_file(t, interp, w, depth + 1);
			free(interp);
		}
		return;
	}
	t->is_elf = 1;
	free(t->elf_path);
	t->elf_path = ln_strdup(f);
	t->what = (char *)what;
	if (fstat(fd, &st) == 0) {
		t->owner = st.st_uid;
		t->group = st.st_gid;
		t->setuid = (st.st_mode & S_ISUID) && st.st_uid != geteuid();
		t->setgid = (st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != getegid();
	}
	/* file capabilities: the kernel runs the program in secure mode (for
	 * root, only when the uid changes: then not counted, as before) */
	if (geteuid() != 0 && fgetxattr(fd, "security.capability", NULL, 0) > 0) {
		t->fcaps = 1;
		snprintf(t->caps, sizeof(t->caps), "security.capability");
	}
	close(fd);

	if (!e->has_interp) {
		t->problem_static = 1;
		if (e->go) {
			t->problem_go = 1;
			problem(t, ln_asprintf("%s is a statically linked Go program: Go makes its system "
					       "calls without libc and LD_PRELOAD cannot load the shim into it",
					       what));
		} else {
			problem(t, ln_asprintf("%s is statically linked: without a dynamic loader, "
					       "LD_PRELOAD cannot load the shim into it",
					       what));
		}
		return;
	}
	if (e->go) {
		t->problem_go = 1;
		problem(t, ln_asprintf("%s is a Go program: Go calls socket(), bind() and listen() "
				       "without libc, so the shim sees none of them",
				       what));
	}
	{
		const char *base = strrchr(e->interp, '/') ? strrchr(e->interp, '/') + 1 : e->interp;

		if (strncmp(base, "ld-linux", 8) && strncmp(base, "ld64.so", 7) &&
		    strncmp(base, "ld.so", 5)) {
			t->problem_other = 1;
			problem(t, ln_asprintf("%s uses the dynamic loader %s: the shim is built for glibc's, "
					       "and may not load",
					       what, e->interp[0] ? e->interp : "(unreadable)"));
		}
	}
	if (t->setuid) {
		t->problem_secure = 1;
		problem(t, ln_asprintf("%s is setuid (owner uid %u): it runs in secure mode, where the "
				       "dynamic loader ignores LD_PRELOAD with a path and the shim stays inert",
				       what, (unsigned)t->owner));
	}
	if (t->setgid) {
		t->problem_secure = 1;
		problem(t, ln_asprintf("%s is setgid (group gid %u): it runs in secure mode, where the "
				       "dynamic loader ignores LD_PRELOAD with a path and the shim stays inert",
				       what, (unsigned)t->group));
	}
	if (t->fcaps) {
		t->problem_secure = 1;
		problem(t, ln_asprintf("%s has file capabilities (%s): it runs in secure mode, where the "
				       "dynamic loader ignores LD_PRELOAD with a path",
				       what, t->caps));
	}
}

void ln_inspect(struct target *t)
{
	inspect_file(t, t->path, t->word, 0);
}

/* A program of another class or machine than the shim: the loader skips it. */
void ln_inspect_shim(struct target *t, const char *shim_path)
{
	struct sda_elf_info shim, *e = &t->elf;
	int fd = open(shim_path, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0 || !t->is_elf || !e->has_interp)
		goto out;
	ok = sda_elf_inspect(fd, &shim) == 0;
	if (ok && (shim.elfclass != e->elfclass || shim.machine != e->machine)) {
		t->problem_other = 1;
		problem(t, ln_asprintf("%s is a %d-bit program for ELF machine %u and the shim is %d-bit "
				       "for machine %u: the dynamic loader will skip the shim",
				       t->what, e->elfclass, e->machine, shim.elfclass, shim.machine));
	}
out:
	if (fd >= 0)
		close(fd);
}
