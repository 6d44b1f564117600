/* helpers.h - small tools shared by the bus tests. */
#ifndef HIVE_TESTS_BUS_HELPERS_H
#define HIVE_TESTS_BUS_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hive/bus.h"

/* A bus with a small queue: most tests do not need 64k slots. */
static inline hive_bus *small_bus(void)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 64 });
    cr_assert_not_null(bus);
    return bus;
}

/* A record of which handlers ran, in order: "a b c ". */
typedef struct tlog {
    char buf[2048];
    size_t len;
} tlog;

static inline void tlog_add(tlog *l, const char *word)
{
    int n = snprintf(l->buf + l->len, sizeof l->buf - l->len, "%s ", word);
    if (n > 0 && (size_t)n < sizeof l->buf - l->len) l->len += (size_t)n;
}

/* user pointer for on_tag: appends `name` to `log`. */
typedef struct tag {
    tlog *log;
    const char *name;
} tag;

static inline void on_tag(const hive_event *ev, void *user)
{
    (void)ev;
    tag *t = user;
    tlog_add(t->log, t->name);
}

/* user pointer for on_count: an int incremented per call. */
static inline void on_count(const hive_event *ev, void *user)
{
    (void)ev;
    (*(int *)user)++;
}

static inline bool cond_true(const hive_event *ev, void *user) { (void)ev; (void)user; return true; }
static inline bool cond_false(const hive_event *ev, void *user) { (void)ev; (void)user; return false; }

#endif
