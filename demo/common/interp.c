/*
 * interp.c - the snapshot buffer and the blend.
 */
#include <math.h>
#include <string.h>
#include "interp.h"

void demo_interp_init(demo_interp *ip)
{
    memset(ip, 0, sizeof *ip);
}

const demo_snapshot *demo_interp_latest(const demo_interp *ip)
{
    return ip->n ? &ip->snaps[ip->n - 1] : NULL;
}

int demo_interp_push(demo_interp *ip, const demo_snapshot *s)
{
    /* ENet's unreliable channel is sequenced, but be tolerant anyway. */
    if (ip->n && s->tick <= ip->snaps[ip->n - 1].tick) return 0;
    if (ip->n == DEMO_INTERP_KEEP) {
        memmove(ip->snaps, ip->snaps + 1, (DEMO_INTERP_KEEP - 1) * sizeof ip->snaps[0]);
        ip->n--;
    }
    ip->snaps[ip->n++] = *s;
    ip->received++;
    double t = (double)s->tick;
    /* Far off (first snapshot, a long stall): jump. Otherwise pull gently,
     * so network jitter does not shake the picture. */
    if (!ip->have || fabs(t - ip->server_tick) > 20.0) {
        if (ip->have) ip->jumps++;
        ip->server_tick = t;
        ip->have = true;
    } else {
        ip->server_tick += (t - ip->server_tick) * 0.1;
    }
    return 1;
}

void demo_interp_advance(demo_interp *ip, double dt, int tick_hz)
{
    if (ip->have) ip->server_tick += dt * tick_hz;
}

bool demo_interp_sample(const demo_interp *ip, double at, uint32_t id, float *x, float *y)
{
    const demo_snap_player *before = NULL, *after = NULL;
    double tb = 0, ta = 0;
    for (int i = 0; i < ip->n; i++) {
        const demo_snapshot *s = &ip->snaps[i];
        const demo_snap_player *p = demo_snapshot_find(s, id);
        if (!p) continue;
        if ((double)s->tick <= at) { before = p; tb = (double)s->tick; }
        else if (!after) { after = p; ta = (double)s->tick; }
    }
    if (before && after) {
        float k = (float)((at - tb) / (ta - tb));
        *x = before->x + (after->x - before->x) * k;
        *y = before->y + (after->y - before->y) * k;
        return true;
    }
    const demo_snap_player *p = before ? before : after;
    if (!p) return false;
    *x = p->x;
    *y = p->y;
    return true;
}
