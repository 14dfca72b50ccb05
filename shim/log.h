/* SPDX-License-Identifier: MIT */
/* log: one line per event, formatted on the stack, one write(2) that never
 * blocks the program (lines that do not fit a full pipe or socket are
 * counted and the count said once), and runs of per-socket lines cut to a
 * bounded number. */
#ifndef SDA_LOG_H
#define SDA_LOG_H

#include "config.h"

/* Set up the sink: level, a private CLOEXEC dup of stderr at or above
 * min_fd, and the journal prefix when JOURNAL_STREAM matches stderr.
 * Returns the private fd (or -1 when logging is off). */
int sda_log_open(enum sda_level level, const char *journal_stream, int min_fd);

/* The sink's fd, so that close()/dup2() can protect it and move it. */
int sda_log_fd(void);
void sda_log_set_fd(int fd);

int sda_log_enabled(enum sda_level level);

/* Lines dropped because the sink was full, said in one line (if any were
 * and the sink takes it now). */
void sda_log_dropped_say(void);

/* A run of lines of one kind, one per inherited socket: the first
 * SDA_LOG_RUN_MAX are written, the rest summed up in one line. */
#define SDA_LOG_RUN_MAX 8
struct sda_log_run {
	unsigned long n;          /* lines asked for */
	int lo, hi;               /* fds of the ones not written */
};
/* 1: write this line; 0: it is counted for the summary (fd < 0: no fd). */
int sda_log_run_next(struct sda_log_run *r, int fd);
/* "... and N more WHAT[ TAIL] (fd LO to HI)", when lines were cut (tail
 * may be NULL). */
void sda_log_run_end(const struct sda_log_run *r, enum sda_level level, const char *what,
		     const char *tail);

/* printf-like, supporting only %s %d %u %ld %lu %zu %c %%.
 * Never allocates, preserves errno. */
void sda_log(enum sda_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define sda_err(...) sda_log(SDA_LOG_ERROR, __VA_ARGS__)
#define sda_warn(...) sda_log(SDA_LOG_WARNING, __VA_ARGS__)
#define sda_info(...) sda_log(SDA_LOG_INFO, __VA_ARGS__)
#define sda_debug(...) sda_log(SDA_LOG_DEBUG, __VA_ARGS__)

#endif
