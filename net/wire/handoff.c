/* handoff.c - handoff tickets (net/wire/handoff.h). */
#include "net/wire/handoff.h"
#include "net/wire/frame.h"

#include <string.h>

#define TRY(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)

uint64_t hive__registry_digest(const hive_registry *r)
{
    uint64_t h = 1469598103934665603ull;
    size_t n = r ? hive_registry_count(r) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        uint32_t id;
        if (hive_registry_at(r, i, &name, &id) != 0) continue;
        uint32_t ch = hive_registry_channel(r, id);
        for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
        uint32_t v[2] = { id, ch };
        const uint8_t *b = (const uint8_t *)v;
        for (size_t k = 0; k < sizeof v; k++) h = (h ^ b[k]) * 1099511628211ull;
    }
    return h;
}

static int put_lanes(hive_msg *m, const char *key, const uint64_t *v, int n)
{
    TRY(hive_msg_key(m, key));
    TRY(hive_msg_array(m, (uint32_t)n));
    for (int i = 0; i < n; i++) TRY(hive_msg_uint(m, v[i]));
    return 0;
}

int hive__ticket_pack(hive_msg *m, const hive__ticket *t, const hive__ticket_frame *fr, size_t nf)
{
    TRY(hive_msg_map(m, 13 + (t->has_subject ? 1 : 0) + (t->src_max_frame ? 1 : 0) + (t->src_heartbeat_ms ? 1 : 0) +
                            (t->src_heartbeat_timeout_ms ? 1 : 0)));
    TRY(hive_msg_kv_uint(m, "v", 1));
    TRY(hive_msg_kv_str(m, "app", t->app));
    TRY(hive_msg_kv_uint(m, "reg", t->reg));
    TRY(hive_msg_kv_uint(m, "from", t->from));
    TRY(hive_msg_kv_uint(m, "lanes", (uint64_t)t->lanes));
    TRY(put_lanes(m, "sent", t->sent, t->lanes));
    TRY(put_lanes(m, "acked", t->acked, t->lanes));
    TRY(put_lanes(m, "recv", t->recv, t->lanes));
    TRY(hive_msg_key(m, "frames"));
    TRY(hive_msg_array(m, (uint32_t)nf));
    for (size_t i = 0; i < nf; i++) {
        TRY(hive_msg_array(m, 2));
        TRY(hive_msg_uint(m, fr[i].lane));
        TRY(hive_msg_bin(m, fr[i].p, fr[i].n));
    }
    TRY(hive_msg_kv_uint(m, "maxf", t->peer_max));
    if (t->src_max_frame) TRY(hive_msg_kv_uint(m, "smaxf", t->src_max_frame));
    if (t->src_heartbeat_ms) TRY(hive_msg_kv_uint(m, "shb", t->src_heartbeat_ms));
    if (t->src_heartbeat_timeout_ms) TRY(hive_msg_kv_uint(m, "shbt", t->src_heartbeat_timeout_ms));
    TRY(hive_msg_kv_bool(m, "zstd", t->zstd));
    TRY(hive_msg_kv_bool(m, "pieces", t->pieces));
    if (t->has_subject) TRY(hive_msg_kv_str(m, "subject", t->subject));
    TRY(hive_msg_key(m, "data"));
    return hive_msg_bin(m, t->data_len ? t->data : (const uint8_t *)"", t->data_len);
}

/* How many times key appears in the map o. */
static int key_count(const msgpack_object *o, const char *key)
{
    size_t n = strlen(key);
    int k = 0;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *x = &o->via.map.ptr[i].key;
        if (x->type == MSGPACK_OBJECT_STR && x->via.str.size == n && memcmp(x->via.str.ptr, key, n) == 0) k++;
    }
    return k;
}

static const msgpack_object *field(const msgpack_object *o, const char *key)
{
    size_t n = strlen(key);
    const msgpack_object *hit = NULL;
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, key, n) == 0) {
            if (hit) return NULL;   /* twice: as bad as absent */
            hit = &o->via.map.ptr[i].val;
        }
    }
    return hit;
}

static bool get_u(const msgpack_object *o, const char *key, uint64_t max, uint64_t *out)
{
    const msgpack_object *v = field(o, key);
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > max) return false;
    *out = v->via.u64;
    return true;
}

static bool get_b(const msgpack_object *o, const char *key, bool *out)
{
    const msgpack_object *v = field(o, key);
    if (!v || v->type != MSGPACK_OBJECT_BOOLEAN) return false;
    *out = v->via.boolean;
    return true;
}

static bool get_s(const msgpack_object *o, const char *key, char *out, size_t cap)
{
    const msgpack_object *v = field(o, key);
    if (!v || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= cap || memchr(v->via.str.ptr, 0, v->via.str.size))
        return false;
    memcpy(out, v->via.str.ptr, v->via.str.size);
    out[v->via.str.size] = 0;
    return true;
}

static bool get_lanes(const msgpack_object *o, const char *key, int n, uint64_t *out)
{
    const msgpack_object *v = field(o, key);
    if (!v || v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size != (uint32_t)n) return false;
    for (int i = 0; i < n; i++) {
        const msgpack_object *x = &v->via.array.ptr[i];
        if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER || x->via.u64 > (UINT64_MAX >> 2)) return false;
        out[i] = x->via.u64;
    }
    return true;
}

int hive__ticket_parse(const msgpack_object *o, hive__ticket *t)
{
    memset(t, 0, sizeof *t);
    if (!o || o->type != MSGPACK_OBJECT_MAP) return HIVE_EPROTO;
    uint64_t v, from, lanes, maxf;
    if (!get_u(o, "v", 1, &v) || v != 1) return HIVE_EPROTO;
    if (!get_s(o, "app", t->app, sizeof t->app) || !t->app[0]) return HIVE_EPROTO;
    if (!get_u(o, "reg", UINT64_MAX, &t->reg)) return HIVE_EPROTO;
    if (!get_u(o, "from", UINT32_MAX, &from)) return HIVE_EPROTO;
    t->from = (uint32_t)from;
    if (!get_u(o, "lanes", HIVE_CHANNELS_MAX, &lanes) || lanes < 1) return HIVE_EPROTO;
    t->lanes = (int)lanes;
    if (!get_lanes(o, "sent", t->lanes, t->sent) || !get_lanes(o, "acked", t->lanes, t->acked) ||
        !get_lanes(o, "recv", t->lanes, t->recv))
        return HIVE_EPROTO;
    if (!get_u(o, "maxf", UINT32_MAX, &maxf) || maxf < HIVE_MIN_MAX_FRAME) return HIVE_EPROTO;
    t->peer_max = (uint32_t)maxf;
    /* the source's limits, when it said them (a ticket without them is
     * still one: they are only checked when present) */
    static const char *const lim[3] = { "smaxf", "shb", "shbt" };
    uint32_t *dst[3] = { &t->src_max_frame, &t->src_heartbeat_ms, &t->src_heartbeat_timeout_ms };
    for (int i = 0; i < 3; i++) {
        uint64_t x;
        int k = key_count(o, lim[i]);
        if (k == 0) continue;
        if (k > 1 || !get_u(o, lim[i], UINT32_MAX, &x) || x == 0) return HIVE_EPROTO;   /* twice: malformed */
        *dst[i] = (uint32_t)x;
    }
    if (t->src_max_frame && t->src_max_frame < HIVE_MIN_MAX_FRAME) return HIVE_EPROTO;
    if (t->src_heartbeat_ms && t->src_heartbeat_timeout_ms && t->src_heartbeat_ms >= t->src_heartbeat_timeout_ms)
        return HIVE_EPROTO;
    if (!get_b(o, "zstd", &t->zstd) || !get_b(o, "pieces", &t->pieces)) return HIVE_EPROTO;
    if (key_count(o, "subject") > 1) return HIVE_EPROTO;
    if (field(o, "subject")) {
        if (!get_s(o, "subject", t->subject, sizeof t->subject)) return HIVE_EPROTO;
        t->has_subject = true;
    }
    const msgpack_object *d = field(o, "data");
    if (!d || d->type != MSGPACK_OBJECT_BIN || d->via.bin.size > HIVE_HANDOFF_DATA_MAX) return HIVE_EPROTO;
    t->data = (const uint8_t *)d->via.bin.ptr;
    t->data_len = d->via.bin.size;
    /* The frames: per lane exactly sent - acked of them, lanes in order,
     * each one whole counted frame. */
    const msgpack_object *fr = field(o, "frames");
    if (!fr || fr->type != MSGPACK_OBJECT_ARRAY || fr->via.array.size > HIVE__TICKET_FRAMES_MAX) return HIVE_EPROTO;
    uint64_t want[HIVE_CHANNELS_MAX], total = 0;
    for (int i = 0; i < t->lanes; i++) {
        if (t->acked[i] > t->sent[i]) return HIVE_EPROTO;
        want[i] = t->sent[i] - t->acked[i];
        if (want[i] > HIVE__TICKET_FRAMES_MAX) return HIVE_EPROTO;   /* (and no sum can wrap) */
        total += want[i];
    }
    if (total != fr->via.array.size) return HIVE_EPROTO;
    int lane = 0;
    for (uint32_t i = 0; i < fr->via.array.size; i++) {
        const msgpack_object *e = &fr->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2) return HIVE_EPROTO;
        const msgpack_object *ln = &e->via.array.ptr[0], *b = &e->via.array.ptr[1];
        if (ln->type != MSGPACK_OBJECT_POSITIVE_INTEGER || ln->via.u64 >= (uint64_t)t->lanes ||
            (int)ln->via.u64 < lane || b->type != MSGPACK_OBJECT_BIN)
            return HIVE_EPROTO;
        lane = (int)ln->via.u64;
        if (want[lane] == 0) return HIVE_EPROTO;
        want[lane]--;
        hive__frame f;
        if (hive__frame_decode((const uint8_t *)b->via.bin.ptr, b->via.bin.size, t->peer_max, &f) != 1 ||
            f.size != b->via.bin.size || !(f.flags & HIVE__FLAG_SEQ) || !hive__pid_counted(f.pid))
            return HIVE_EPROTO;
    }
    t->frames = fr;
    return 0;
}
