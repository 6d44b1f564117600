/*
 * countalloc.h - an allocator for hive_set_allocator that counts the
 * bytes Hive holds (live) and the most it ever held (peak), from any
 * thread, for the tests that bound memory.
 *
 *   countalloc_reset();                 live and peak to zero
 *   hive_set_allocator(&countalloc);    ...create, run, destroy...
 *   countalloc_live(), countalloc_peak()
 *   countalloc_rebase();                peak := live (measure from here)
 *   hive_set_allocator(NULL);           once every Hive object is gone
 */
#ifndef HIVE_TESTS_COUNTALLOC_H
#define HIVE_TESTS_COUNTALLOC_H

#include <stdlib.h>
#include "hive/common.h"

typedef struct countalloc_blk { size_t size; size_t pad; } countalloc_blk;  /* 16: keeps alignment */
static long countalloc_live_, countalloc_peak_;   /* __atomic */

static inline void countalloc_note(long delta)
{
    long now = __atomic_add_fetch(&countalloc_live_, delta, __ATOMIC_RELAXED);
    long peak = __atomic_load_n(&countalloc_peak_, __ATOMIC_RELAXED);
    while (now > peak &&
           !__atomic_compare_exchange_n(&countalloc_peak_, &peak, now, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

static inline void *countalloc_malloc(size_t n, void *u)
{
    (void)u;
    countalloc_blk *b = malloc(sizeof *b + n);
    if (!b) return NULL;
    b->size = n;
    countalloc_note((long)n);
    return b + 1;
}

static inline void countalloc_free(void *p, void *u)
{
    (void)u;
    if (!p) return;
    countalloc_blk *b = (countalloc_blk *)p - 1;
    countalloc_note(-(long)b->size);
    free(b);
}

static inline void *countalloc_realloc(void *p, size_t n, void *u)
{
    if (!p) return countalloc_malloc(n, u);
    countalloc_blk *b = (countalloc_blk *)p - 1;
    size_t old = b->size;
    countalloc_blk *nb = realloc(b, sizeof *nb + n);
    if (!nb) return NULL;
    nb->size = n;
    countalloc_note((long)n - (long)old);
    return nb + 1;
}

static const hive_allocator countalloc = { countalloc_malloc, countalloc_realloc, countalloc_free, NULL };

static inline void countalloc_reset(void)
{
    __atomic_store_n(&countalloc_live_, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&countalloc_peak_, 0, __ATOMIC_RELAXED);
}
static inline long countalloc_live(void) { return __atomic_load_n(&countalloc_live_, __ATOMIC_RELAXED); }
static inline long countalloc_peak(void) { return __atomic_load_n(&countalloc_peak_, __ATOMIC_RELAXED); }
static inline void countalloc_rebase(void)
{
    __atomic_store_n(&countalloc_peak_, countalloc_live(), __ATOMIC_RELAXED);
}

#endif /* HIVE_TESTS_COUNTALLOC_H */
