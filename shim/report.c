/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "addr.h"
#include "fork.h"
#include "inherited.h"
#include "log.h"
#include "sys.h"
#include "startcode.h"

_Atomic int sda_report_pending;

void sda_report_arm(void)
{
	atomic_store(&sda_report_pending, 1);
}

SDA_STARTUP static enum sda_level level(void)
{
	return sda_inh.settings.strict ? SDA_LOG_ERROR : SDA_LOG_WARNING;
}

/* Has any process (a forked worker) adopted?  A page of the shared counters
 * that nobody wrote is not even resident (mincore tells, one call a page):
 * reading it would cost a page fault for nothing. */
SDA_STARTUP static int any_adoption(void)
{
	size_t pg = 4096, n = sda_inh.n;   /* mincore works on any page size that divides it */
	/* page-aligned: the shared mapping made at the first fork (if that
	 * failed, the arena's copy: mincore() fails and the counts are read) */
	uintptr_t base = (uintptr_t)sda_inh.adoptions;

	if (!base)
		return 0;
	for (size_t off = 0; off < n * sizeof(*sda_inh.adoptions); off += pg) {
		unsigned char v = 1;
		size_t first = off / sizeof(*sda_inh.adoptions);
		size_t last = (off + pg) / sizeof(*sda_inh.adoptions);

		if (sda_sys_mincore((void *)(base + off), pg, &v) == 0 && !(v & 1))
			continue;                /* never written */
		for (size_t i = first; i < last && i < n; i++)
			if (atomic_load(&sda_inh.adoptions[i]))
				return 1;
	}
	return 0;
}

/* Nothing was probed: no bind() in this process reached the shim.  Say so
 * in one line, without probing (a program that never binds pays nothing). */
SDA_STARTUP static void report_unprobed(const char *when)
{
	/* only a forked worker can have adopted, and only a fork the handlers
	 * saw made the counts shared (they are not even read otherwise: their
	 * first read costs a page) */
	if (sda_inh.counts_shared && any_adoption())
		return;
	sda_log(level(), "none of the %zu inherited fds was adopted %s: the program never bound an "
		"address (LISTEN_FDNAMES=%s)", sda_inh.n, when, sda_inh.listen_names);
}

SDA_STARTUP void sda_report(const char *when)
{
	const struct sda_registry *reg = &sda_inh.reg;
	struct sda_log_run run = { 0 };
	char a[160];
	int expected = 1;

	if (!sda_activated() || sda_self() != sda_inh.act_pid || !sda_log_enabled(level()))
		return;
	if (!sda_probe_done()) {
		report_unprobed(when);
		return;
	}
	/* once for "serving"; the exit report always runs */
	if (!atomic_compare_exchange_strong(&sda_report_pending, &expected, 0) &&
	    strcmp(when, "at exit") != 0)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		const struct sda_sock *s = &reg->e[i];

		if (!s->usable || atomic_load(&sda_inh.adoptions[i]) || !sda_log_run_next(&run, sda_inherited_no(s)))
			continue;
		sda_addr_format(&s->addr, a, sizeof(a));
		sda_log(level(), "inherited fd %d \"%s\" (%s %s) was never adopted %s: no bind() asked for "
			"its address (see SDADOPT_MAP, SDADOPT_MATCH=port)", sda_inherited_no(s), s->name,
			sda_type_name(s->family, s->type), a, when);
	}
	sda_log_run_end(&run, level(), "inherited fds were never adopted", when);
	sda_log_dropped_say();
}
