/*
 * snapshot.c - snapshots to and from msgpack.
 */
#include <math.h>
#include <string.h>
#include "snapshot.h"

void demo_snapshot_take(const demo_world *w, uint32_t seq, demo_snapshot *out)
{
    memset(out, 0, sizeof *out);
    out->tick = w->tick;
    out->seq = seq;
    out->it = w->it;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &w->p[i];
        if (!p->used) continue;
        demo_snap_player *s = &out->p[out->n++];
        s->id = p->id;
        s->x = p->x;
        s->y = p->y;
        s->score = demo_score(w, p);
        s->flags = (uint8_t)((w->it == p->id ? DEMO_SNAP_IT : 0) | (p->frozen_ticks ? DEMO_SNAP_FROZEN : 0));
        s->ack = p->ack;
        s->frozen = p->frozen_ticks;
    }
}

int demo_snapshot_encode(const demo_snapshot *s, hive_msg *m)
{
    int rc = hive_msg_map(m, 4);
    rc |= hive_msg_kv_uint(m, "t", s->tick);
    rc |= hive_msg_kv_uint(m, "q", s->seq);
    rc |= hive_msg_kv_uint(m, "it", s->it);
    rc |= hive_msg_key(m, "p");
    rc |= hive_msg_array(m, (uint32_t)s->n);
    for (int i = 0; i < s->n; i++) {
        const demo_snap_player *p = &s->p[i];
        rc |= hive_msg_array(m, 7);
        rc |= hive_msg_uint(m, p->id);
        /* float32 on the wire: the server simulates in floats, so this is
         * its state to the bit, and the client's prediction can replay
         * from it exactly. */
        rc |= msgpack_pack_float(&m->pk, p->x);
        rc |= msgpack_pack_float(&m->pk, p->y);
        rc |= hive_msg_uint(m, p->score);
        rc |= hive_msg_uint(m, p->flags);
        rc |= hive_msg_uint(m, p->ack);
        rc |= hive_msg_uint(m, p->frozen);
    }
    return rc ? HIVE_ENOMEM : 0;
}

static bool get_u32(const msgpack_object *o, uint32_t *out)
{
    uint64_t v;
    if (hive_msg_as_uint(o, &v) || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

static bool get_coord(const msgpack_object *o, float max, float *out)
{
    double v;
    if (hive_msg_as_double(o, &v) || !isfinite(v) || v < 0 || v > max) return false;
    *out = (float)v;
    return true;
}

int demo_snapshot_decode(const msgpack_object *obj, demo_snapshot *out)
{
    memset(out, 0, sizeof *out);
    uint64_t t, q, it;
    const msgpack_object *p;
    uint32_t np;
    if (hive_msg_path_uint(obj, "t", &t) || hive_msg_path_uint(obj, "q", &q) ||
        hive_msg_path_uint(obj, "it", &it) || q > UINT32_MAX || it > UINT32_MAX ||
        hive_msg_path_array(obj, "p", &p, &np) || np > DEMO_MAX_PLAYERS)
        return HIVE_EPROTO;
    out->tick = t;
    out->seq = (uint32_t)q;
    out->it = (uint32_t)it;
    /* Each player: [id, x, y, score, flags, ack, frozen]. */
    const msgpack_object *e;
    for (uint32_t i = 0; (e = hive_msg_next(p, &i)); ) {
        if (hive_msg_as_array(e, &np) || np != 7) return HIVE_EPROTO;
        demo_snap_player *s = &out->p[out->n];
        uint32_t flags;
        if (!get_u32(hive_msg_at(e, 0), &s->id) || s->id == 0 ||
            !get_coord(hive_msg_at(e, 1), DEMO_ARENA_W, &s->x) || !get_coord(hive_msg_at(e, 2), DEMO_ARENA_H, &s->y) ||
            !get_u32(hive_msg_at(e, 3), &s->score) || !get_u32(hive_msg_at(e, 4), &flags) || flags > 3 ||
            !get_u32(hive_msg_at(e, 5), &s->ack) || !get_u32(hive_msg_at(e, 6), &s->frozen))
            return HIVE_EPROTO;
        s->flags = (uint8_t)flags;
        if (demo_snapshot_find(out, s->id)) return HIVE_EPROTO;   /* duplicate id */
        out->n++;
    }
    return 0;
}

const demo_snap_player *demo_snapshot_find(const demo_snapshot *s, uint32_t id)
{
    for (int i = 0; i < s->n; i++)
        if (s->p[i].id == id) return &s->p[i];
    return NULL;
}
