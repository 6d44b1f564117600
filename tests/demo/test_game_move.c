/* Movement: speed, diagonals, walls and pillars. */
#include <criterion/criterion.h>
#include <math.h>
#include "demo/common/game.h"

Test(move, straight_and_diagonal_at_the_same_speed, .timeout = 30)
{
    float x = 300, y = 60, dt = 1.0f / 60;
    demo_move(&x, &y, DEMO_RIGHT, DEMO_SPEED, dt);
    cr_expect_float_eq(x, 300 + DEMO_SPEED * dt, 1e-3);
    cr_expect_float_eq(y, 60, 1e-6);
    float a = 300, b = 60;
    demo_move(&a, &b, DEMO_RIGHT | DEMO_DOWN, DEMO_SPEED, dt);
    float d = sqrtf((a - 300) * (a - 300) + (b - 60) * (b - 60));
    cr_expect_float_eq(d, DEMO_SPEED * dt, 1e-3);
}

Test(move, opposite_keys_cancel, .timeout = 30)
{
    float x = 300, y = 60;
    demo_move(&x, &y, DEMO_LEFT | DEMO_RIGHT | DEMO_UP | DEMO_DOWN, DEMO_SPEED, 0.1f);
    cr_expect_float_eq(x, 300, 1e-6);
    cr_expect_float_eq(y, 60, 1e-6);
}

Test(move, walls_hold, .timeout = 30)
{
    float x = 20, y = 20;
    for (int i = 0; i < 100; i++) demo_move(&x, &y, DEMO_LEFT | DEMO_UP, DEMO_SPEED, 1.0f / 60);
    cr_expect_float_eq(x, DEMO_RADIUS, 1e-4);
    cr_expect_float_eq(y, DEMO_RADIUS, 1e-4);
    x = DEMO_ARENA_W - 20; y = DEMO_ARENA_H - 20;
    for (int i = 0; i < 100; i++) demo_move(&x, &y, DEMO_RIGHT | DEMO_DOWN, DEMO_SPEED, 1.0f / 60);
    cr_expect_float_eq(x, DEMO_ARENA_W - DEMO_RADIUS, 1e-3);
    cr_expect_float_eq(y, DEMO_ARENA_H - DEMO_RADIUS, 1e-3);
}

Test(move, pillars_are_solid, .timeout = 30)
{
    const demo_rect *r = &demo_pillars[0];
    /* Walk right into the pillar's left face, along its middle. */
    float x = r->x - 60, y = r->y + r->h / 2;
    for (int i = 0; i < 120; i++) demo_move(&x, &y, DEMO_RIGHT, DEMO_SPEED, 1.0f / 60);
    cr_expect_float_eq(x, r->x - DEMO_RADIUS, 1e-3, "stopped at the face, x=%f", x);
    cr_expect_float_eq(y, r->y + r->h / 2, 1e-3);
}

Test(move, every_pillar_stops_a_player_from_every_side, .timeout = 30)
{
    for (int i = 0; i < demo_npillars; i++) {
        const demo_rect *r = &demo_pillars[i];
        float cx = r->x + r->w / 2, cy = r->y + r->h / 2;
        struct { float x, y; uint8_t bits; } from[4] = {
            { r->x - 40, cy, DEMO_RIGHT }, { r->x + r->w + 40, cy, DEMO_LEFT },
            { cx, r->y - 40, DEMO_DOWN }, { cx, r->y + r->h + 40, DEMO_UP },
        };
        for (int k = 0; k < 4; k++) {
            float x = from[k].x, y = from[k].y;
            for (int t = 0; t < 120; t++) demo_move(&x, &y, from[k].bits, DEMO_IT_SPEED, 1.0f / 60);
            bool inside = x > r->x - DEMO_RADIUS + 0.01f && x < r->x + r->w + DEMO_RADIUS - 0.01f &&
                          y > r->y - DEMO_RADIUS + 0.01f && y < r->y + r->h + DEMO_RADIUS - 0.01f;
            cr_expect(!inside, "pillar %d side %d: player at %f,%f overlaps", i, k, x, y);
        }
    }
}

Test(move, a_centre_inside_a_pillar_is_pushed_out, .timeout = 30)
{
    const demo_rect *r = &demo_pillars[4];
    float x = r->x + 2, y = r->y + r->h / 2;
    demo_move(&x, &y, 0, 0, 0);
    cr_expect_float_eq(x, r->x - DEMO_RADIUS, 1e-3);
}
