/*
 * snapshot.h - the state of the arena as the server broadcasts it, 30
 * times a second on the unreliable channel, and its msgpack form:
 *
 *   { "t": tick, "q": seq, "it": id,
 *     "p": [ [id, x, y, score, flags, ack, frozen], ... ] }
 *
 * Arrays inside keep a snapshot small (about 20 bytes a player). `seq`
 * counts snapshots so a client can measure loss; `ack` is the last input
 * of that player the server applied, for the client's prediction.
 */
#ifndef DEMO_SNAPSHOT_H
#define DEMO_SNAPSHOT_H

#include <hive/msg.h>
#include "game.h"

enum { DEMO_SNAP_IT = 1, DEMO_SNAP_FROZEN = 2 };

typedef struct demo_snap_player {
    uint32_t id;
    float x, y;
    uint32_t score;      /* whole points */
    uint8_t flags;       /* DEMO_SNAP_* */
    uint32_t ack;
    uint32_t frozen;     /* ticks left */
} demo_snap_player;

typedef struct demo_snapshot {
    uint64_t tick;
    uint32_t seq;
    uint32_t it;
    int n;
    demo_snap_player p[DEMO_MAX_PLAYERS];
} demo_snapshot;

/* demo_snapshot_take - the world's state now. */
void demo_snapshot_take(const demo_world *w, uint32_t seq, demo_snapshot *out);

/* demo_snapshot_encode - append the msgpack form to m. 0 or HIVE_ENOMEM. */
int demo_snapshot_encode(const demo_snapshot *s, hive_msg *m);

/* demo_snapshot_decode - read a received snapshot. The input is from the
 * network: every type, count and coordinate is checked. Returns 0, or
 * HIVE_EPROTO (anything malformed; *out is then unspecified). */
int demo_snapshot_decode(const msgpack_object *obj, demo_snapshot *out);

/* demo_snapshot_find - the entry of player id, or NULL. */
const demo_snap_player *demo_snapshot_find(const demo_snapshot *s, uint32_t id);

#endif
