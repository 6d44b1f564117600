/* Timers: once after N ms, every N ms, cancel (also from callbacks). */
#include "engine_util.h"

typedef struct log {
    hive_engine *e;
    int n;
    int ids[32];
    uint64_t at[32];
    int cancel;          /* a timer id to cancel from inside the callback */
    int cancel_rc;
} log_t;

static void note(hive_engine *e, int timer, void *user)
{
    log_t *l = user;
    if (l->n < 32) {
        l->ids[l->n] = timer;
        l->at[l->n] = hive_engine_now(e);
    }
    l->n++;
    if (l->cancel) l->cancel_rc = hive_engine_cancel(e, l->cancel);
}

Test(timer, after_runs_once_when_due, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    int id = hive_engine_after(r.e, 50, note, &l);
    cr_assert_gt(id, 0);
    cr_expect_eq(hive_engine_timer_count(r.e), 1);
    rig_step(&r, 49 * MS);
    cr_expect_eq(l.n, 0);
    rig_step(&r, 1 * MS);
    cr_expect_eq(l.n, 1);
    cr_expect_eq(l.ids[0], id);
    for (int i = 0; i < 5; i++) rig_step(&r, 50 * MS);
    cr_expect_eq(l.n, 1, "a one-shot timer runs once");
    cr_expect_eq(hive_engine_timer_count(r.e), 0);
    cr_expect_eq(hive_engine_cancel(r.e, id), HIVE_ENOENT);
    rig_fini(&r);
}

Test(timer, after_zero_runs_at_the_next_step, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    hive_engine_after(r.e, 0, note, &l);
    cr_expect_eq(l.n, 0);
    rig_step(&r, 0);
    cr_expect_eq(l.n, 1);
    rig_fini(&r);
}

Test(timer, every_repeats_on_its_period, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    uint64_t t0 = hive_engine_now(r.e);
    int id = hive_engine_every(r.e, 100, note, &l);
    cr_assert_gt(id, 0);
    for (int i = 0; i < 50; i++) rig_step(&r, 10 * MS);   /* 500 ms */
    cr_expect_eq(l.n, 5);
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(l.ids[i], id);
        cr_expect_eq(l.at[i], t0 + (uint64_t)(i + 1) * 100 * MS);
    }
    cr_expect_eq(hive_engine_timer_count(r.e), 1);
    rig_fini(&r);
}

Test(timer, every_skips_missed_periods_after_a_stall, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    hive_engine_every(r.e, 100, note, &l);
    rig_step(&r, 1050 * MS);          /* ten periods late */
    cr_expect_eq(l.n, 1, "no burst of ten");
    rig_step(&r, 40 * MS);            /* 1090: before the next grid point */
    cr_expect_eq(l.n, 1);
    rig_step(&r, 10 * MS);            /* 1100: on the original phase */
    cr_expect_eq(l.n, 2);
    rig_fini(&r);
}

Test(timer, every_zero_is_invalid, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    cr_expect_eq(hive_engine_every(r.e, 0, note, &l), HIVE_EINVAL);
    cr_expect_eq(hive_engine_after(r.e, 5, NULL, &l), HIVE_EINVAL);
    cr_expect_eq(hive_engine_after(NULL, 5, note, &l), HIVE_EINVAL);
    cr_expect_eq(hive_engine_cancel(r.e, 12345), HIVE_ENOENT);
    rig_fini(&r);
}

Test(timer, cancel_before_due, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    int a = hive_engine_after(r.e, 10, note, &l);
    int b = hive_engine_every(r.e, 10, note, &l);
    cr_expect_neq(a, b);
    cr_expect_eq(hive_engine_cancel(r.e, a), HIVE_OK);
    cr_expect_eq(hive_engine_cancel(r.e, b), HIVE_OK);
    cr_expect_eq(hive_engine_cancel(r.e, b), HIVE_ENOENT);
    rig_step(&r, 100 * MS);
    cr_expect_eq(l.n, 0);
    cr_expect_eq(hive_engine_timer_count(r.e), 0);
    rig_fini(&r);
}

Test(timer, repeating_timer_cancels_itself_from_its_callback, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    int id = hive_engine_every(r.e, 10, note, &l);
    l.cancel = id;
    rig_step(&r, 10 * MS);
    cr_expect_eq(l.n, 1);
    cr_expect_eq(l.cancel_rc, HIVE_OK);
    for (int i = 0; i < 10; i++) rig_step(&r, 10 * MS);
    cr_expect_eq(l.n, 1, "never runs again");
    cr_expect_eq(hive_engine_timer_count(r.e), 0);
    rig_fini(&r);
}

Test(timer, callback_cancels_another_due_in_the_same_step, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t first = { 0 }, second = { 0 };
    hive_engine_after(r.e, 10, note, &first);
    int b = hive_engine_after(r.e, 20, note, &second);
    first.cancel = b;
    rig_step(&r, 30 * MS);            /* both due; the earlier runs first */
    cr_expect_eq(first.n, 1);
    cr_expect_eq(first.cancel_rc, HIVE_OK);
    cr_expect_eq(second.n, 0);
    rig_fini(&r);
}

Test(timer, due_order_then_creation_order, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    int c = hive_engine_after(r.e, 30, note, &l);
    int a = hive_engine_after(r.e, 10, note, &l);
    int b1 = hive_engine_after(r.e, 20, note, &l);
    int b2 = hive_engine_after(r.e, 20, note, &l);
    rig_step(&r, 100 * MS);
    cr_assert_eq(l.n, 4);
    cr_expect_eq(l.ids[0], a);
    cr_expect_eq(l.ids[1], b1);
    cr_expect_eq(l.ids[2], b2);
    cr_expect_eq(l.ids[3], c);
    rig_fini(&r);
}

typedef struct rearm { int runs; int last_rc; } rearm;

static void rearm_now(hive_engine *e, int timer, void *user)
{
    rearm *x = user;
    x->runs++;
    x->last_rc = hive_engine_after(e, 0, rearm_now, x);
}

Test(timer, timer_added_by_a_callback_waits_for_the_next_step, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    rearm x = { 0 };
    hive_engine_after(r.e, 0, rearm_now, &x);
    rig_step(&r, 1 * MS);
    cr_expect_eq(x.runs, 1);
    cr_expect_gt(x.last_rc, 0);
    rig_step(&r, 1 * MS);
    rig_step(&r, 1 * MS);
    cr_expect_eq(x.runs, 3);
    cr_expect_eq(hive_engine_timer_count(r.e), 1);
    rig_fini(&r);
}

static void add_many(hive_engine *e, int timer, void *user)
{
    log_t *l = user;
    /* Enough new timers to move the array while we are iterating it. */
    for (int i = 0; i < 40; i++) hive_engine_after(e, 5, note, l);
}

Test(timer, many_timers_added_from_a_callback, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    hive_engine_after(r.e, 1, add_many, &l);
    hive_engine_after(r.e, 1, note, &l);
    rig_step(&r, 1 * MS);
    cr_expect_eq(l.n, 1);
    rig_step(&r, 5 * MS);
    cr_expect_eq(l.n, 41);
    hive_engine_counters st;
    hive_engine_stats(r.e, &st);
    cr_expect_eq(st.timers_fired, 42);
    rig_fini(&r);
}

Test(timer, ids_are_never_reused, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    int a = hive_engine_after(r.e, 1, note, &l);
    hive_engine_cancel(r.e, a);
    int b = hive_engine_after(r.e, 1, note, &l);
    cr_expect_gt(b, a);
    rig_fini(&r);
}

Test(timer, destroy_with_pending_timers_frees_them, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    log_t l = { 0 };
    for (int i = 0; i < 20; i++) hive_engine_every(r.e, 10 + i, note, &l);
    rig_fini(&r);       /* LeakSanitizer checks the rest */
    cr_expect_eq(l.n, 0);
}
