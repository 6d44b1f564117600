/* engine:tick and engine:nettick: fixed steps taken out of real time. */
#include "engine_util.h"

Test(tick, one_tick_per_period_with_fixed_dt, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    rec ticks = { 0 };
    hive_bus_subscribe(r.bus, "engine:tick", rec_event, &ticks, NULL);
    for (int i = 0; i < 60; i++) cr_expect_eq(rig_step(&r, TICK60), 1);
    cr_assert_eq(ticks.n, 60);
    for (int i = 0; i < REC_MAX && i < ticks.n; i++) {
        cr_expect_eq(ticks.tick[i], i + 1);
        cr_expect_float_eq(ticks.dt[i], 1.0 / 60, 1e-6);
    }
    cr_expect_eq(hive_engine_tick(r.e), 60);
    rig_fini(&r);
}

Test(tick, short_frames_accumulate, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    /* 60 Hz = 16.67 ms: 5 ms frames give a tick every 4th frame at most. */
    int got[8];
    for (int i = 0; i < 8; i++) got[i] = rig_step(&r, 5 * MS);
    int expect[8] = { 0, 0, 0, 1, 0, 0, 1, 0 };   /* at 20 ms and 35 ms */
    for (int i = 0; i < 8; i++) cr_expect_eq(got[i], expect[i], "frame %d", i);
    cr_expect_eq(hive_engine_tick(r.e), 2);
    rig_fini(&r);
}

Test(tick, long_frame_runs_several_ticks, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    rec ticks = { 0 };
    hive_bus_subscribe(r.bus, "engine:tick", rec_event, &ticks, NULL);
    cr_expect_eq(rig_step(&r, 3 * TICK60 + 1 * MS), 3);
    cr_expect_eq(ticks.n, 3);
    cr_expect_eq(ticks.tick[2], 3);
    rig_fini(&r);
}

Test(tick, stall_is_capped_and_counted, .timeout = 10)
{
    rig r; rig_init(&r, &(hive_engine_config){ .max_ticks_per_frame = 4 });
    cr_expect_eq(rig_step(&r, 2001 * MS), 4);       /* 2 s = 120 ticks owed */
    hive_engine_counters st;
    cr_assert_eq(hive_engine_stats(r.e, &st), HIVE_OK);
    cr_expect_eq(st.ticks, 4);
    cr_expect_eq(st.dropped_ticks, 116);
    /* The debt is forgotten: the next normal frame runs one tick. */
    cr_expect_eq(rig_step(&r, TICK60), 1);
    rig_fini(&r);
}

Test(tick, net_ticks_at_their_own_rate, .timeout = 10)
{
    rig r; rig_init(&r, &(hive_engine_config){ .tick_hz = 60, .net_hz = 20 });
    rec net = { 0 };
    hive_bus_subscribe(r.bus, "engine:nettick", rec_event, &net, NULL);
    for (int i = 0; i < 60; i++) rig_step(&r, TICK60);
    cr_expect_eq(net.n, 20);
    cr_expect_float_eq(net.dt[0], 0.05, 1e-9);
    cr_expect_eq(net.tick[19], 20);
    cr_expect_float_eq(hive_engine_net_dt(r.e), 0.05, 1e-9);
    rig_fini(&r);
}

Test(tick, frame_carries_dt_and_alpha, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    rec frames = { 0 };
    hive_bus_subscribe(r.bus, "engine:frame", rec_event, &frames, NULL);
    rig_step(&r, 4 * MS);
    rig_step(&r, 4 * MS);
    cr_assert_eq(frames.n, 2);
    cr_expect_eq(frames.tick[0], 1);               /* frame number */
    cr_expect_eq(frames.tick[1], 2);
    cr_expect_float_eq(frames.dt[1], 0.004, 1e-9);
    cr_expect_float_eq(frames.alpha[1], 8.0 / 16.666667, 1e-4);
    rig_fini(&r);
}

Test(tick, time_never_runs_backwards, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    rig_step(&r, 10 * MS);
    uint64_t t = hive_engine_now(r.e);
    cr_expect_eq(hive_engine_step(r.e, t - 5 * MS), 0);
    cr_expect_eq(hive_engine_now(r.e), t);
    r.clock.t = t;
    cr_expect_eq(rig_step(&r, 7 * MS), 1);         /* 17 ms in total, not 12 */
    rig_fini(&r);
}

Test(tick, step_zero_reads_the_clock, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    r.clock.t += 2 * TICK60;
    cr_expect_eq(hive_engine_step(r.e, 0), 2);
    cr_expect_eq(hive_engine_now(r.e), r.clock.t);
    rig_fini(&r);
}

typedef struct nested { hive_engine *e; int step_rc, run_rc; } nested;

static void nested_step(const hive_event *ev, void *user)
{
    nested *n = user;
    n->step_rc = hive_engine_step(n->e, 0);
    n->run_rc = hive_engine_run(n->e);
}

Test(tick, step_or_run_inside_a_step_is_refused, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    nested n = { r.e, 1, 1 };
    hive_bus_subscribe(r.bus, "engine:tick", nested_step, &n, NULL);
    cr_expect_eq(rig_step(&r, TICK60), 1);
    cr_expect_eq(n.step_rc, HIVE_ESTATE);
    cr_expect_eq(n.run_rc, HIVE_ESTATE);
    cr_expect_eq(hive_engine_tick(r.e), 1);
    rig_fini(&r);
}
