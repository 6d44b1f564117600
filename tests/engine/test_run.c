/* hive_engine_run on the real clock: pacing, waiting, stopping. */
#include <unistd.h>
#include "engine_util.h"

static void stop_engine(hive_engine *e, int timer, void *user) { hive_engine_stop(e); }
static void count(const hive_event *ev, void *user) { ++*(int *)user; }

static hive_engine *real_engine(hive_bus **bus, double tick_hz)
{
    *bus = hive_bus_create(NULL);
    cr_assert_not_null(*bus);
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = *bus, .tick_hz = tick_hz });
    cr_assert_not_null(e);
    return e;
}

Test(run, paces_ticks_on_the_real_clock, .timeout = 10)
{
    hive_bus *bus;
    hive_engine *e = real_engine(&bus, 100);
    int ticks = 0, starts = 0, stops = 0;
    hive_bus_subscribe(bus, "engine:tick", count, &ticks, NULL);
    hive_bus_subscribe(bus, "engine:start", count, &starts, NULL);
    hive_bus_subscribe(bus, "engine:stop", count, &stops, NULL);
    hive_engine_after(e, 300, stop_engine, NULL);
    uint64_t t0 = hive_now_ns();
    cr_assert_eq(hive_engine_run(e), HIVE_OK);
    uint64_t ms = (hive_now_ns() - t0) / 1000000u;
    cr_expect_geq(ms, 295);
    cr_expect_lt(ms, 1000);
    /* 100 Hz for 0.3 s: 30 ticks, give or take scheduling noise. */
    cr_expect_geq(ticks, 27);
    cr_expect_leq(ticks, 31);
    cr_expect_eq(starts, 1);
    cr_expect_eq(stops, 1);
    hive_engine_counters st;
    hive_engine_stats(e, &st);
    cr_expect_gt(st.idle_ns, 100 * MS, "the loop sleeps between frames");
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

typedef struct waiter { int calls; int waits; int longest; } waiter;

static int waiting_service(void *obj, int timeout_ms)
{
    waiter *w = obj;
    w->calls++;
    if (timeout_ms > 0) {
        w->waits++;
        if (timeout_ms > w->longest) w->longest = timeout_ms;
        usleep((useconds_t)timeout_ms * 1000);
    }
    return 0;
}

Test(run, waits_inside_the_first_service, .timeout = 10)
{
    hive_bus *bus;
    hive_engine *e = real_engine(&bus, 20);        /* 50 ms frames */
    waiter w = { 0 };
    hive_engine_add_service(e, waiting_service, &w);
    hive_engine_after(e, 200, stop_engine, NULL);
    hive_engine_run(e);
    cr_expect_gt(w.waits, 2);
    cr_expect_geq(w.longest, 20, "the wait is handed to the service");
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

Test(run, stop_before_run_returns_at_once, .timeout = 10)
{
    hive_bus *bus;
    hive_engine *e = real_engine(&bus, 60);
    hive_engine_stop(e);
    uint64_t t0 = hive_now_ns();
    cr_expect_eq(hive_engine_run(e), HIVE_OK);
    cr_expect_lt(hive_now_ns() - t0, 1000 * MS);   /* at once, not after frames (a loaded machine may pause it) */
    /* The request was consumed: a second run needs its own stop. */
    hive_engine_after(e, 30, stop_engine, NULL);
    cr_expect_eq(hive_engine_run(e), HIVE_OK);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}
