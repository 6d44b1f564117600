/* Bots play: "it" closes in, the others get away. */
#include <criterion/criterion.h>
#include <math.h>
#include "demo/common/bot.h"

static float dist(const demo_player *a, const demo_player *b)
{
    return sqrtf((a->x - b->x) * (a->x - b->x) + (a->y - b->y) * (a->y - b->y));
}

/* Two bots in a world; returns ticks until the first tag, or -1. */
static int play(uint32_t seed, int max_ticks, float *closest)
{
    demo_world w;
    demo_world_init(&w, 60, seed);
    demo_world_add(&w, 1, "hunter");
    demo_world_add(&w, 2, "prey");
    demo_bot b1, b2;
    demo_bot_init(&b1, seed * 3 + 1);
    demo_bot_init(&b2, seed * 5 + 2);
    *closest = 1e9f;
    for (int t = 1; t <= max_ticks; t++) {
        demo_snapshot s;
        demo_snapshot_take(&w, (uint32_t)t, &s);
        demo_player *a = demo_world_find(&w, 1), *b = demo_world_find(&w, 2);
        demo_world_input(&w, 1, (uint32_t)t, demo_bot_think(&b1, &s, 1, a->x, a->y));
        demo_world_input(&w, 2, (uint32_t)t, demo_bot_think(&b2, &s, 2, b->x, b->y));
        demo_tag tag;
        if (demo_world_tick(&w, &tag)) return t;
        float d = dist(a, b);
        if (d < *closest) *closest = d;
    }
    return -1;
}

Test(bot, it_catches_someone_eventually, .timeout = 30)
{
    int caught = 0;
    for (uint32_t seed = 1; seed <= 6; seed++) {
        float closest;
        int t = play(seed, 60 * 60, &closest);
        if (t > 0) caught++;
    }
    /* "It" is a little faster and the prey gets cornered by pillars: most
     * games end in a tag within a minute. */
    cr_expect_geq(caught, 4, "%d of 6 chases ended in a tag", caught);
}

Test(bot, prey_runs_away, .timeout = 30)
{
    demo_snapshot s = { .tick = 1, .it = 1, .n = 2 };
    s.p[0] = (demo_snap_player){ .id = 1, .x = 400, .y = 60, .flags = DEMO_SNAP_IT };
    s.p[1] = (demo_snap_player){ .id = 2, .x = 460, .y = 60 };
    int right = 0;
    for (uint32_t seed = 1; seed <= 20; seed++) {
        demo_bot b;
        demo_bot_init(&b, seed);
        uint8_t bits = demo_bot_think(&b, &s, 2, 460, 60);
        if (bits & DEMO_RIGHT) right++;
        cr_expect_not(bits & DEMO_LEFT, "seed %u ran toward 'it'", seed);
    }
    cr_expect_geq(right, 18);
}

Test(bot, hunter_heads_for_the_nearest, .timeout = 30)
{
    demo_snapshot s = { .tick = 1, .it = 1, .n = 3 };
    s.p[0] = (demo_snap_player){ .id = 1, .x = 400, .y = 250, .flags = DEMO_SNAP_IT };
    s.p[1] = (demo_snap_player){ .id = 2, .x = 300, .y = 250 };
    s.p[2] = (demo_snap_player){ .id = 3, .x = 700, .y = 250 };
    demo_bot b;
    demo_bot_init(&b, 9);
    cr_expect_eq(demo_bot_think(&b, &s, 1, 400, 250), DEMO_LEFT);
    cr_expect_eq(demo_bot_think(&b, &s, 9, 0, 0), 0, "not in the snapshot: stand still");
}
