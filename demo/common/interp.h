/*
 * interp.h - drawing other players smoothly between snapshots.
 *
 * Snapshots arrive 30 times a second, unevenly, and some never arrive. The
 * client draws the world a little in the past (`delay` ticks behind its
 * estimate of the server's clock), where it almost always holds a snapshot
 * on each side, and blends positions between the two.
 */
#ifndef DEMO_INTERP_H
#define DEMO_INTERP_H

#include "snapshot.h"

#define DEMO_INTERP_KEEP 32

typedef struct demo_interp {
    demo_snapshot snaps[DEMO_INTERP_KEEP];   /* by tick, oldest first */
    int n;
    double server_tick;     /* estimate of the server's tick now */
    bool have;
    uint32_t received, jumps;
} demo_interp;

void demo_interp_init(demo_interp *ip);

/* demo_interp_push - keep a received snapshot (older or duplicate ticks
 * are ignored: returns 0; kept: 1) and pull the clock estimate toward it. */
int demo_interp_push(demo_interp *ip, const demo_snapshot *s);

/* demo_interp_advance - let dt seconds pass on the estimated server clock. */
void demo_interp_advance(demo_interp *ip, double dt, int tick_hz);

/* demo_interp_sample - position of player id at server tick `at`.
 * Between two snapshots holding the player: blended; before the oldest
 * or after the newest: the nearest one's position (never extrapolated).
 * Returns false when no kept snapshot has the player. */
bool demo_interp_sample(const demo_interp *ip, double at, uint32_t id, float *x, float *y);

/* demo_interp_latest - the newest snapshot, or NULL. */
const demo_snapshot *demo_interp_latest(const demo_interp *ip);

#endif
