/*
 * failalloc.h - an allocator for hive_set_allocator that fails the Nth
 * allocation (SQLite style) and counts live blocks, for the out-of-memory
 * tests of every area.
 *
 *   failalloc_reset(n, persistent);    fail allocation n (n = 0: never);
 *                                      persistent: also every one after it
 *   hive_set_allocator(&failalloc);    ...run the script...
 *   failalloc_live                     blocks not freed yet (0 = no leak)
 */
#ifndef HIVE_TESTS_FAILALLOC_H
#define HIVE_TESTS_FAILALLOC_H

#include <stdbool.h>
#include <stdlib.h>
#include "hive/common.h"

static long failalloc_nth, failalloc_at, failalloc_live;
static bool failalloc_persistent;

static inline void failalloc_reset(long fail_at, bool persistent)
{
    failalloc_nth = failalloc_live = 0;
    failalloc_at = fail_at;
    failalloc_persistent = persistent;
}

static inline bool failalloc_should_fail(void)
{
    failalloc_nth++;
    return failalloc_at > 0 &&
           (failalloc_persistent ? failalloc_nth >= failalloc_at : failalloc_nth == failalloc_at);
}

static inline void *failalloc_malloc(size_t n, void *u)
{
    (void)u;
    if (failalloc_should_fail()) return NULL;
    void *p = malloc(n);
    if (p) failalloc_live++;
    return p;
}

static inline void *failalloc_realloc(void *p, size_t n, void *u)
{
    (void)u;
    if (failalloc_should_fail()) return NULL;
    void *q = realloc(p, n);
    if (q && !p) failalloc_live++;
    return q;
}

static inline void failalloc_free(void *p, void *u)
{
    (void)u;
    if (p) {
        failalloc_live--;
        free(p);
    }
}

static const hive_allocator failalloc = { failalloc_malloc, failalloc_realloc, failalloc_free, NULL };

#endif /* HIVE_TESTS_FAILALLOC_H */
