/*
 * bot.c - steering by adding up pulls and pushes, then picking the
 * nearest of the eight directions an arrow-key player has.
 */
#include <math.h>
#include <string.h>
#include "bot.h"

void demo_bot_init(demo_bot *b, uint32_t seed)
{
    memset(b, 0, sizeof *b);
    b->rng = seed ? seed : 7;
}

static float rnd01(demo_bot *b)
{
    uint32_t x = b->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b->rng = x;
    return (float)(x % 10000u) / 10000.0f;
}

/* Push away from anything solid closer than `reach`, harder when nearer. */
static void avoid(float x, float y, float reach, float *vx, float *vy)
{
    float walls[4][3] = {
        { x, 1, 0 }, { DEMO_ARENA_W - x, -1, 0 }, { y, 0, 1 }, { DEMO_ARENA_H - y, 0, -1 },
    };
    for (int i = 0; i < 4; i++) {
        float d = walls[i][0];
        if (d < reach) {
            float k = (reach - d) / reach;
            *vx += walls[i][1] * k * 2.0f;
            *vy += walls[i][2] * k * 2.0f;
        }
    }
    for (int i = 0; i < demo_npillars; i++) {
        const demo_rect *r = &demo_pillars[i];
        float cx = x < r->x ? r->x : (x > r->x + r->w ? r->x + r->w : x);
        float cy = y < r->y ? r->y : (y > r->y + r->h ? r->y + r->h : y);
        float dx = x - cx, dy = y - cy;
        float d = sqrtf(dx * dx + dy * dy);
        if (d < reach && d > 0.001f) {
            float k = (reach - d) / reach;
            *vx += dx / d * k * 1.5f;
            *vy += dy / d * k * 1.5f;
        }
    }
}

static uint8_t to_bits(float vx, float vy)
{
    if (fabsf(vx) < 1e-3f && fabsf(vy) < 1e-3f) return 0;
    /* The nearest of 8 directions: a component counts when it is at
     * least tan(22.5 deg) of the other. */
    float ax = fabsf(vx), ay = fabsf(vy);
    uint8_t bits = 0;
    if (ax >= ay * 0.414f) bits |= vx < 0 ? DEMO_LEFT : DEMO_RIGHT;
    if (ay >= ax * 0.414f) bits |= vy < 0 ? DEMO_UP : DEMO_DOWN;
    return bits;
}

uint8_t demo_bot_think(demo_bot *b, const demo_snapshot *s, uint32_t self, float x, float y)
{
    const demo_snap_player *me = demo_snapshot_find(s, self);
    if (!me) return 0;
    if (b->hold > 0) {
        b->hold--;
        return b->bits;
    }
    bool it = s->it == self;
    float vx = 0, vy = 0;
    b->wander += (rnd01(b) - 0.5f) * 0.6f;

    if (it) {
        /* Chase the nearest player. */
        const demo_snap_player *target = NULL;
        float best = 1e30f;
        for (int i = 0; i < s->n; i++) {
            const demo_snap_player *p = &s->p[i];
            if (p->id == self) continue;
            float dx = p->x - x, dy = p->y - y, d2 = dx * dx + dy * dy;
            if (d2 < best) { best = d2; target = p; }
        }
        if (target) {
            float d = sqrtf(best) + 0.001f;
            vx = (target->x - x) / d;
            vy = (target->y - y) / d;
        }
        avoid(x, y, 30.0f, &vx, &vy);
    } else {
        const demo_snap_player *hunter = demo_snapshot_find(s, s->it);
        if (hunter) {
            float dx = x - hunter->x, dy = y - hunter->y;
            float d = sqrtf(dx * dx + dy * dy) + 0.001f;
            /* Run when it comes close, stroll otherwise. */
            float fear = d < 220.0f ? (220.0f - d) / 220.0f * 2.0f : 0.0f;
            vx = dx / d * fear;
            vy = dy / d * fear;
        }
        /* Keep some room from the other runners: a crowd is easy prey. */
        for (int i = 0; i < s->n; i++) {
            const demo_snap_player *p = &s->p[i];
            if (p->id == self || p->id == s->it) continue;
            float dx = x - p->x, dy = y - p->y, d = sqrtf(dx * dx + dy * dy);
            if (d < 80.0f && d > 0.001f) {
                vx += dx / d * (80.0f - d) / 80.0f * 1.2f;
                vy += dy / d * (80.0f - d) / 80.0f * 1.2f;
            }
        }
        vx += cosf(b->wander) * 0.6f;
        vy += sinf(b->wander) * 0.6f;
        avoid(x, y, 70.0f, &vx, &vy);
    }
    b->bits = to_bits(vx, vy);
    b->hold = 3 + (int)(rnd01(b) * 4);   /* a human does not change keys every 16 ms */
    return b->bits;
}
