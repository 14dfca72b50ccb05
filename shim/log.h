/* SPDX-License-Identifier: MIT */
/* log: one line per event, formatted on the stack, one write(2). */
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

/* printf-like, supporting only %s %d %u %ld %lu %zu %c %%.
 * Never allocates, preserves errno. */
void sda_log(enum sda_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define sda_err(...) sda_log(SDA_LOG_ERROR, __VA_ARGS__)
#define sda_warn(...) sda_log(SDA_LOG_WARNING, __VA_ARGS__)
#define sda_info(...) sda_log(SDA_LOG_INFO, __VA_ARGS__)
#define sda_debug(...) sda_log(SDA_LOG_DEBUG, __VA_ARGS__)

#endif
