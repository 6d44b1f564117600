/* Remote players are drawn between the two snapshots around render time. */
#include <criterion/criterion.h>
#include "demo/common/interp.h"

static demo_snapshot snap(uint64_t tick, uint32_t id, float x, float y)
{
    demo_snapshot s = { .tick = tick, .seq = (uint32_t)tick, .n = 1 };
    s.p[0] = (demo_snap_player){ .id = id, .x = x, .y = y };
    return s;
}

Test(interp, blends_between_snapshots, .timeout = 30)
{
    static demo_interp ip;
    demo_interp_init(&ip);
    demo_snapshot a = snap(100, 7, 10, 10), b = snap(102, 7, 30, 50);
    cr_expect_eq(demo_interp_push(&ip, &a), 1);
    cr_expect_eq(demo_interp_push(&ip, &b), 1);
    float x, y;
    cr_assert(demo_interp_sample(&ip, 101, 7, &x, &y));
    cr_expect_float_eq(x, 20, 1e-4);
    cr_expect_float_eq(y, 30, 1e-4);
    cr_assert(demo_interp_sample(&ip, 100.5, 7, &x, &y));
    cr_expect_float_eq(x, 15, 1e-4);
}

Test(interp, never_extrapolates, .timeout = 30)
{
    static demo_interp ip;
    demo_interp_init(&ip);
    demo_snapshot a = snap(100, 7, 10, 10), b = snap(102, 7, 30, 50);
    demo_interp_push(&ip, &a);
    demo_interp_push(&ip, &b);
    float x, y;
    demo_interp_sample(&ip, 500, 7, &x, &y);
    cr_expect_float_eq(x, 30, 1e-6);
    demo_interp_sample(&ip, 5, 7, &x, &y);
    cr_expect_float_eq(x, 10, 1e-6);
    cr_expect_not(demo_interp_sample(&ip, 101, 8, &x, &y), "unknown player");
}

Test(interp, stale_and_duplicate_snapshots_are_ignored, .timeout = 30)
{
    static demo_interp ip;
    demo_interp_init(&ip);
    demo_snapshot a = snap(100, 7, 10, 10), b = snap(98, 7, 99, 99);
    demo_interp_push(&ip, &a);
    cr_expect_eq(demo_interp_push(&ip, &a), 0);
    cr_expect_eq(demo_interp_push(&ip, &b), 0);
    cr_expect_eq(ip.n, 1);
    cr_expect_eq(demo_interp_latest(&ip)->tick, 100);
}

Test(interp, a_lost_snapshot_is_bridged, .timeout = 30)
{
    static demo_interp ip;
    demo_interp_init(&ip);
    demo_snapshot a = snap(100, 7, 0, 0), c = snap(104, 7, 40, 0);   /* 102 lost */
    demo_interp_push(&ip, &a);
    demo_interp_push(&ip, &c);
    float x, y;
    demo_interp_sample(&ip, 102, 7, &x, &y);
    cr_expect_float_eq(x, 20, 1e-4);
}

Test(interp, a_player_who_joined_late_appears_at_once, .timeout = 30)
{
    static demo_interp ip;
    demo_interp_init(&ip);
    demo_snapshot a = snap(100, 7, 0, 0), b = snap(102, 7, 10, 0);
    b.p[1] = (demo_snap_player){ .id = 8, .x = 50, .y = 60 };
    b.n = 2;
    demo_interp_push(&ip, &a);
    demo_interp_push(&ip, &b);
    float x, y;
    cr_assert(demo_interp_sample(&ip, 101, 8, &x, &y));
    cr_expect_float_eq(x, 50, 1e-6);
}

Test(interp, clock_follows_the_server, .timeout = 30)
{
    static demo_interp ip;
    demo_interp_init(&ip);
    demo_snapshot s = snap(1000, 1, 0, 0);
    demo_interp_push(&ip, &s);
    cr_expect_float_eq(ip.server_tick, 1000, 1e-9);
    /* One second at 60 Hz with snapshots every other tick, arriving on
     * time: the estimate stays within a tick of the truth. */
    for (int i = 1; i <= 30; i++) {
        demo_interp_advance(&ip, 2.0 / 60, 60);
        s = snap(1000 + 2 * (uint64_t)i, 1, 0, 0);
        demo_interp_push(&ip, &s);
    }
    cr_expect_float_eq(ip.server_tick, 1060, 1.0);
    /* A long stall: the estimate jumps instead of crawling. */
    s = snap(5000, 1, 0, 0);
    demo_interp_push(&ip, &s);
    cr_expect_float_eq(ip.server_tick, 5000, 1e-9);
    cr_expect_eq(ip.jumps, 1);
}

Test(interp, keeps_a_bounded_history, .timeout = 30)
{
    static demo_interp ip;
    demo_interp_init(&ip);
    for (uint64_t t = 1; t <= 100; t++) {
        demo_snapshot s = snap(t, 1, (float)t, 0);
        demo_interp_push(&ip, &s);
    }
    cr_expect_eq(ip.n, DEMO_INTERP_KEEP);
    cr_expect_eq(ip.snaps[0].tick, 100 - DEMO_INTERP_KEEP + 1);
    cr_expect_eq(ip.received, 100);
}
