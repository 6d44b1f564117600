/*
 * log.h - the demo's live log: one line per thing worth seeing, with the
 * seconds since the program started, flushed at once so a script can
 * follow it.
 */
#ifndef DEMO_LOG_H
#define DEMO_LOG_H

#include <stdbool.h>

/* demo_log_init - start the clock; quiet drops demo_log lines (demo_say
 * lines still print). */
void demo_log_init(bool quiet);

/* demo_log - "[  1.23] <what padded>  <text>". */
void demo_log(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* demo_say - a line printed even when quiet (start, summary, errors). */
void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* demo_log_seconds - seconds since demo_log_init. */
double demo_log_seconds(void);

#endif
