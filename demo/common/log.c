/*
 * log.c - timestamps and line buffering for the live log.
 */
#include <stdarg.h>
#include <stdio.h>
#include <hive/common.h>
#include "log.h"

static uint64_t start_ns;
static bool quiet_log;

void demo_log_init(bool quiet)
{
    start_ns = hive_now_ns();
    quiet_log = quiet;
    setvbuf(stdout, NULL, _IOLBF, 0);
}

double demo_log_seconds(void)
{
    return (double)(hive_now_ns() - start_ns) / 1e9;
}

void demo_log(const char *what, const char *fmt, ...)
{
    if (quiet_log) return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("[%6.2f] %-39s %s\n", demo_log_seconds(), what, text);
}

void demo_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}
