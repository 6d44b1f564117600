/*
 * timer.c - one-shot and repeating timers on the engine's clock.
 *
 * Timers live in a flat array scanned linearly: a game has tens of them,
 * not thousands, and a scan keeps cancel-from-a-callback trivial. Entries
 * are only marked dead while callbacks may be running (a callback may add
 * or cancel timers, which can move the array), and compacted afterwards.
 */
#include "events/internal.h"
#include "engine_internal.h"

static int timer_add(hive_engine *e, uint64_t ms, uint64_t period_ms,
                     hive_timer_fn fn, void *user)
{
    if (!e || !fn) return HIVE_EINVAL;
    /* Bound ms so due never wraps: about 584 years of nanoseconds. */
    if (ms > UINT64_MAX / 2000000u || period_ms > UINT64_MAX / 2000000u) return HIVE_EINVAL;
    if (e->timer_next_id == INT32_MAX) return HIVE_ELIMIT;
    if (e->ntimers == e->timer_cap) {
        size_t cap = e->timer_cap ? e->timer_cap * 2 : 8;
        hive__timer *t = hive__realloc(e->timers, cap * sizeof *t);
        if (!t) return HIVE_ENOMEM;
        e->timers = t;
        e->timer_cap = cap;
    }
    hive__timer *t = &e->timers[e->ntimers++];
    t->id = ++e->timer_next_id;
    t->dead = false;
    t->due = e->now + ms * 1000000u;
    t->period = period_ms * 1000000u;
    t->seq = e->timer_seq++;
    t->fn = fn;
    t->user = user;
    e->timers_live++;
    return t->id;
}

int hive_engine_after(hive_engine *e, uint64_t ms, hive_timer_fn fn, void *user)
{
    return timer_add(e, ms, 0, fn, user);
}

int hive_engine_every(hive_engine *e, uint64_t ms, hive_timer_fn fn, void *user)
{
    if (ms == 0) return HIVE_EINVAL;
    return timer_add(e, ms, ms, fn, user);
}

static void compact(hive_engine *e)
{
    size_t j = 0;
    for (size_t i = 0; i < e->ntimers; i++)
        if (!e->timers[i].dead) e->timers[j++] = e->timers[i];
    e->ntimers = j;
}

int hive_engine_cancel(hive_engine *e, int timer)
{
    if (!e || timer <= 0) return e ? HIVE_ENOENT : HIVE_EINVAL;
    for (size_t i = 0; i < e->ntimers; i++) {
        hive__timer *t = &e->timers[i];
        if (t->id != timer) continue;
        if (t->dead) return HIVE_ENOENT;
        t->dead = true;
        e->timers_live--;
        if (e->timer_depth == 0) compact(e);
        return HIVE_OK;
    }
    return HIVE_ENOENT;
}

size_t hive_engine_timer_count(const hive_engine *e)
{
    return e ? e->timers_live : 0;
}

bool hive__engine_next_timer(const hive_engine *e, uint64_t *due)
{
    bool any = false;
    for (size_t i = 0; i < e->ntimers; i++) {
        const hive__timer *t = &e->timers[i];
        if (t->dead) continue;
        if (!any || t->due < *due) *due = t->due;
        any = true;
    }
    return any;
}

void hive__engine_fire_timers(hive_engine *e)
{
    /* Only timers that existed when this step began may fire in it: a
     * callback that re-arms itself with after(0) runs once per step, not
     * forever. */
    uint64_t seq_limit = e->timer_seq;
    uint64_t now = e->now;
    e->timer_depth++;
    for (;;) {
        hive__timer *best = NULL;
        for (size_t i = 0; i < e->ntimers; i++) {
            hive__timer *t = &e->timers[i];
            if (t->dead || t->seq >= seq_limit || t->due > now) continue;
            if (!best || t->due < best->due || (t->due == best->due && t->seq < best->seq))
                best = t;
        }
        if (!best) break;
        int id = best->id;
        hive_timer_fn fn = best->fn;
        void *user = best->user;
        if (best->period) {
            /* Skip missed periods: the next due time is the first grid
             * point after now, keeping the timer's phase. */
            uint64_t next = best->due + best->period;
            if (next <= now) next += ((now - next) / best->period + 1) * best->period;
            best->due = next;
        } else {
            best->dead = true;
            e->timers_live--;
        }
        e->st.timers_fired++;
        fn(e, id, user);    /* may add or cancel timers: `best` is stale now */
    }
    e->timer_depth--;
    if (e->timer_depth == 0) compact(e);
}

void hive__engine_free_timers(hive_engine *e)
{
    hive__free(e->timers);
    e->timers = NULL;
    e->ntimers = e->timer_cap = e->timers_live = 0;
}
