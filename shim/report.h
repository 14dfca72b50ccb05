/* SPDX-License-Identifier: MIT */
/* report: which inherited sockets the program never adopted, said when it
 * starts serving (its first accept or datagram receive) and at exit, in a
 * bounded number of lines however many sockets there are. */
#ifndef SDA_REPORT_H
#define SDA_REPORT_H

#include <stdatomic.h>

extern _Atomic int sda_report_pending;

/* The registry is ready: the next serving call reports. */
void sda_report_arm(void);
void sda_report(const char *when);
static inline void sda_serving(void)
{
	if (__builtin_expect(atomic_load_explicit(&sda_report_pending, memory_order_relaxed), 0))
		sda_report("when the program started serving");
}

#endif
