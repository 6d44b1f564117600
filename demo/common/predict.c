/*
 * predict.c - client-side prediction and reconciliation.
 */
#include <math.h>
#include <string.h>
#include "predict.h"

void demo_predict_init(demo_predict *pr, int tick_hz)
{
    memset(pr, 0, sizeof *pr);
    pr->dt = 1.0f / (float)(tick_hz > 0 ? tick_hz : 60);
}

static void step(demo_predict *pr, uint8_t bits)
{
    if (pr->frozen) {
        pr->frozen--;
        return;
    }
    demo_move(&pr->x, &pr->y, bits, demo_speed(pr->is_it), pr->dt);
}

uint32_t demo_predict_input(demo_predict *pr, uint8_t bits)
{
    uint32_t seq = ++pr->next_seq;
    if (pr->n == DEMO_PREDICT_KEEP) {
        /* The server has not answered 128 inputs: forget the oldest. */
        memmove(pr->hist, pr->hist + 1, (DEMO_PREDICT_KEEP - 1) * sizeof pr->hist[0]);
        pr->n--;
    }
    pr->hist[pr->n++] = (demo_input){ seq, bits };
    if (pr->have) step(pr, bits);
    return seq;
}

void demo_predict_reconcile(demo_predict *pr, float x, float y, uint32_t ack,
                            bool is_it, uint32_t frozen)
{
    int drop = 0;
    while (drop < pr->n && pr->hist[drop].seq <= ack) drop++;
    memmove(pr->hist, pr->hist + drop, (size_t)(pr->n - drop) * sizeof pr->hist[0]);
    pr->n -= drop;

    float oldx = pr->x + pr->ox, oldy = pr->y + pr->oy;
    pr->x = x;
    pr->y = y;
    pr->is_it = is_it;
    pr->frozen = frozen;
    for (int i = 0; i < pr->n; i++) step(pr, pr->hist[i].bits);
    if (!pr->have) {
        pr->have = true;
        pr->ox = pr->oy = 0;
        return;
    }
    /* Keep what is on screen where it was; let the offset fade. A jump
     * much larger than a few steps (a respawn) is not worth smoothing. */
    float dx = oldx - pr->x, dy = oldy - pr->y;
    float d2 = dx * dx + dy * dy;
    if (d2 > 0.01f) pr->corrections++;
    if (d2 > 80.0f * 80.0f) dx = dy = 0;
    pr->ox = dx;
    pr->oy = dy;
}

void demo_predict_smooth(demo_predict *pr, double dt)
{
    /* About 90% of the offset gone in 0.1 s, whatever the frame rate. */
    float k = (float)exp(-dt * 23.0);
    pr->ox *= k;
    pr->oy *= k;
    if (fabsf(pr->ox) < 0.01f) pr->ox = 0;
    if (fabsf(pr->oy) < 0.01f) pr->oy = 0;
}
