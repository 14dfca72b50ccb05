/* SPDX-License-Identifier: MIT */
/* sdadopt(1): run an unmodified server so that it adopts the sockets systemd
 * socket activation (or --listen) hands it.
 *
 *   preload mode (dynamically linked programs): LD_PRELOAD=libsdadopt.so and
 *   the SDADOPT_* variables, then exec in place (LISTEN_PID stays true).
 *   seccomp mode (static and Go programs, or --seccomp): sdadopt stays the
 *   parent and answers the program's bind() calls (seccomp.c). */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"

/* The ELF machine and class of this launcher: the seccomp filter serves
 * only system calls of this architecture. */
static int native_program(const struct sda_elf_info *e)
{
#if defined(__x86_64__)
	return e->machine == EM_X86_64 && e->elfclass == 64;
#elif defined(__aarch64__)
	return e->machine == EM_AARCH64 && e->elfclass == 64;
#else
	(void)e;
	return 0;
#endif
}

/* Which mode, and why: one line for --explain. */
static enum run_mode choose_mode(const struct opts *o, const struct target *t, char **why)
{
	const char *kwhy = NULL;
	int want_auto = t->is_elf && (t->problem_static || t->problem_go) && !t->problem_secure &&
			native_program(&t->elf);

	if (o->seccomp == SECCOMP_NEVER) {
		*why = ln_strdup("--no-seccomp: the shim is preloaded");
		return MODE_PRELOAD;
	}
	if (o->seccomp == SECCOMP_FORCE) {
		if (ln_seccomp_probe(&kwhy) < 0)
			ln_die(EX_UNAVAILABLE_, "--seccomp: %s", kwhy);
		*why = ln_strdup("--seccomp");
		return MODE_SECCOMP;
	}
	if (!want_auto) {
		if (!t->is_elf)
			*why = ln_strdup("not an ELF file: the shim is preloaded");
		else if ((t->problem_static || t->problem_go) && !native_program(&t->elf))
			*why = ln_asprintf("%s is a %d-bit program for ELF machine %u, another architecture "
					   "than sdadopt's: no seccomp mode for it, the shim is preloaded",
					   t->what, t->elf.elfclass, t->elf.machine);
		else if (t->problem_secure)
			*why = ln_asprintf("%s runs in secure mode: seccomp mode would drop its privileges "
					   "(NO_NEW_PRIVS), so the shim is preloaded",
					   t->what);
		else
			*why = ln_asprintf("%s is dynamically linked (PT_INTERP %s): the shim is preloaded",
					   t->what, t->elf.interp);
		return MODE_PRELOAD;
	}
	if (ln_seccomp_probe(&kwhy) < 0) {
		ln_warn("%s: seccomp mode is not possible here: %s", t->word, kwhy);
		*why = ln_asprintf("seccomp mode is not possible here (%s): the shim is preloaded", kwhy);
		return MODE_PRELOAD;
	}
	if (t->problem_go)
		*why = ln_asprintf("%s is a %sGo program (%s): seccomp mode", t->what,
				   t->elf.has_interp ? "" : "statically linked ",
				   sda_elf_go_sign_name(t->elf.go));
	else
		*why = ln_asprintf("%s is statically linked (no PT_INTERP program header): seccomp mode",
				   t->what);
	return MODE_SECCOMP;
}

int main(int argc, char **argv)
{
	/* static: reachable until exit(), which frees nothing (a sanitizer
	 * build checks for leaks) */
	static struct opts o;
	static struct target t;
	static char *why, *shim, *preload;
	enum run_mode mode;

	ln_parse_opts(argc, argv, &o);
	ln_resolve_command(&t, o.argv[0]);
	ln_inspect(&t);
	mode = choose_mode(&o, &t, &why);

	if (mode == MODE_PRELOAD) {
		shim = ln_find_shim(&o);
		ln_inspect_shim(&t, shim);
		preload = ln_build_preload(getenv("LD_PRELOAD"), shim);
		if (t.nproblems) {
			for (size_t i = 0; i < t.nproblems; i++) {
				if (o.strict)
					ln_err("%s", t.problems[i]);
				else
					ln_warn("%s", t.problems[i]);
			}
			if (o.strict) {
				ln_err("not running %s: it cannot adopt inherited sockets (--strict); see LIMITS "
				       "in sdadopt(1)",
				       t.word);
				exit(EX_SOFTWARE_);
			}
			ln_warn("running %s anyway: it will bind its own sockets, as if sdadopt were not there",
				t.word);
		}
	}
	if (o.explain) {
		ln_say("%s: explain: mode: %s", sda_me, why);
		ln_explain(&o, &t, preload, mode);
	}
	if (mode == MODE_SECCOMP && o.nlisten && o.activator == ACT_SSA) {
		ln_note("systemd-socket-activate starts %s at the first connection to %s (--activator "
			"builtin starts it at once)",
			t.word, o.listen[0]);
		ln_exec_ssa_self(&o, &t, 0);
	}
	if (mode == MODE_SECCOMP)
		exit(ln_seccomp_run(&o, &t, 2, 0));

	ln_export_settings(&o);
	if (o.nlisten && o.activator == ACT_SSA) {
		ln_note("systemd-socket-activate starts %s at the first connection to %s (--activator "
			"builtin starts it at once)",
			t.word, o.listen[0]);
		ln_exec_ssa(&o, &t, preload);
	}
	if (o.nlisten) {
		struct listened l;

		ln_listen_sockets(&o, &l);
		ln_set_listen_env(&l, getpid());
	}
	setenv("LD_PRELOAD", preload, 1);
	ln_exec(&t, o.argv);
}
