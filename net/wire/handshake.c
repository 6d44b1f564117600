/* handshake.c - bodies of Hive's own packets (see handshake.h). Decoders
 * read what they know and ignore unknown keys, so a later protocol can add
 * fields without breaking this one. */
#include "net/wire/handshake.h"
#include "net/wire/registry_wire.h"

#include <string.h>

#define TRY(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)

int hive__hello_pack(hive_msg *m, const char *app, const char *app_version,
                     const char *conntype, const void *token, size_t token_len,
                     uint32_t max_frame, bool resume, bool zstd, bool pieces)
{
    TRY(hive_msg_map(m, (token ? 8 : 7) + (zstd ? 1 : 0) + (pieces ? 1 : 0)));
    if (pieces) TRY(hive_msg_kv_bool(m, "pieces", true));
    if (zstd) {
        TRY(hive_msg_key(m, "compress"));
        TRY(hive_msg_array(m, 1));
        TRY(hive_msg_str(m, "zstd"));
    }
    TRY(hive_msg_kv_str(m, "magic", HIVE__MAGIC));
    TRY(hive_msg_kv_uint(m, "proto", HIVE_PROTOCOL_VERSION));
    TRY(hive_msg_kv_str(m, "app", app));
    TRY(hive_msg_kv_str(m, "app_version", app_version));
    TRY(hive_msg_kv_str(m, "conntype", conntype));
    TRY(hive_msg_kv_uint(m, "max_frame", max_frame));
    TRY(hive_msg_kv_bool(m, "resume", resume));
    if (token) TRY(hive_msg_kv_bin(m, "token", token, token_len));
    return 0;
}

int hive__welcome_pack(hive_msg *m, uint32_t cid, uint64_t session, uint32_t hb_ms,
                       uint32_t hb_timeout_ms, uint32_t max_frame,
                       const char *app_version, const hive_registry *reg,
                       const uint8_t *resume_token, bool zstd, bool pieces, bool channels)
{
    TRY(hive_msg_map(m, (resume_token ? 9 : 8) + (zstd ? 1 : 0) + (pieces ? 1 : 0)));
    if (pieces) TRY(hive_msg_kv_bool(m, "pieces", true));
    if (zstd) TRY(hive_msg_kv_str(m, "compress", "zstd"));
    if (resume_token) TRY(hive_msg_kv_bin(m, "resume_token", resume_token, HIVE__RESUME_TOKEN));
    TRY(hive_msg_kv_uint(m, "proto", HIVE_PROTOCOL_VERSION));
    TRY(hive_msg_kv_uint(m, "cid", cid));
    TRY(hive_msg_kv_uint(m, "session", session));
    TRY(hive_msg_kv_uint(m, "heartbeat_ms", hb_ms));
    TRY(hive_msg_kv_uint(m, "heartbeat_timeout_ms", hb_timeout_ms));
    TRY(hive_msg_kv_uint(m, "max_frame", max_frame));
    TRY(hive_msg_kv_str(m, "app_version", app_version));
    TRY(hive_msg_key(m, "registry"));
    return hive__registry_pack_ch(reg, &m->pk, channels) ? HIVE_ENOMEM : 0;
}

static int lanes_put(hive_msg *m, const char *key, const hive__lanecounts *l)
{
    TRY(hive_msg_str(m, key));
    TRY(hive_msg_array(m, l->n));
    for (int i = 0; i < l->n; i++) TRY(hive_msg_uint(m, l->v[i]));
    return 0;
}

static bool has_lanes(const hive__lanecounts *l) { return l && l->n; }

int hive__lanecounts_get(const msgpack_object *map, const char *key, hive__lanecounts *out)
{
    memset(out, 0, sizeof *out);
    const msgpack_object *a = hive_msg_get(map, key);
    if (!a) return 0;
    if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size > HIVE_CHANNELS_MAX - 1) return HIVE_EPROTO;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        if (a->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER) return HIVE_EPROTO;
        out->v[i] = a->via.array.ptr[i].via.u64;
    }
    out->n = (uint8_t)a->via.array.size;
    return 0;
}

int hive__lanecounts_obj(const msgpack_object *a, uint64_t *first, hive__lanecounts *out)
{
    memset(out, 0, sizeof *out);
    if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size < 1 || a->via.array.size > HIVE_CHANNELS_MAX)
        return HIVE_EPROTO;
    for (uint32_t i = 0; i < a->via.array.size; i++)
        if (a->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER) return HIVE_EPROTO;
    *first = a->via.array.ptr[0].via.u64;
    for (uint32_t i = 1; i < a->via.array.size; i++) out->v[i - 1] = a->via.array.ptr[i].via.u64;
    out->n = (uint8_t)(a->via.array.size - 1);
    return 0;
}

int hive__resume_pack(hive_msg *m, const char *app, uint32_t cid, const uint8_t *token, uint64_t recv,
                      const hive__lanecounts *lanes, uint32_t max_frame)
{
    TRY(hive_msg_map(m, has_lanes(lanes) ? 8 : 7));
    if (has_lanes(lanes)) TRY(lanes_put(m, "recv_lanes", lanes));
    TRY(hive_msg_kv_str(m, "magic", HIVE__MAGIC));
    TRY(hive_msg_kv_uint(m, "proto", HIVE_PROTOCOL_VERSION));
    TRY(hive_msg_kv_str(m, "app", app));
    TRY(hive_msg_kv_uint(m, "cid", cid));
    TRY(hive_msg_kv_bin(m, "token", token, HIVE__RESUME_TOKEN));
    TRY(hive_msg_kv_uint(m, "recv", recv));
    return hive_msg_kv_uint(m, "max_frame", max_frame);
}

int hive__resumed_pack(hive_msg *m, uint32_t cid, const uint8_t *token, uint64_t recv,
                       const hive__lanecounts *lanes)
{
    TRY(hive_msg_map(m, has_lanes(lanes) ? 4 : 3));
    if (has_lanes(lanes)) TRY(lanes_put(m, "recv_lanes", lanes));
    TRY(hive_msg_kv_uint(m, "cid", cid));
    TRY(hive_msg_kv_bin(m, "token", token, HIVE__RESUME_TOKEN));
    return hive_msg_kv_uint(m, "recv", recv);
}

int hive__close_pack(hive_msg *m, int reason, const char *message, int64_t received,
                     const hive__lanecounts *lanes)
{
    return hive__close_pack_redirect(m, reason, message, received, lanes, NULL, 0, NULL);
}

int hive__close_pack_redirect(hive_msg *m, int reason, const char *message, int64_t received,
                              const hive__lanecounts *lanes, const char *to, uint32_t to_cid,
                              const uint8_t *to_token)
{
    bool more = received >= 0 && has_lanes(lanes);
    bool redirect = to && to_token;
    TRY(hive_msg_map(m, (received >= 0 ? 4 : 3) + (more ? 1 : 0) + (redirect ? 3 : 0)));
    if (redirect) {
        TRY(hive_msg_kv_str(m, "to", to));
        TRY(hive_msg_kv_uint(m, "to_cid", to_cid));
        TRY(hive_msg_key(m, "to_token"));
        TRY(hive_msg_bin(m, to_token, HIVE__RESUME_TOKEN));
    }
    if (received >= 0) TRY(hive_msg_kv_uint(m, "received", (uint64_t)received));
    if (more) TRY(lanes_put(m, "received_lanes", lanes));
    TRY(hive_msg_kv_uint(m, "reason", (uint64_t)reason));
    TRY(hive_msg_kv_str(m, "name", hive_close_reason_name(reason)));
    size_t n = message ? strlen(message) : 0;
    if (n > HIVE__CLOSE_MSG_MAX) n = HIVE__CLOSE_MSG_MAX;
    TRY(hive_msg_key(m, "message"));
    return hive_msg_strn(m, message ? message : "", n);
}

int hive__ready_pack(hive_msg *m) { return hive_msg_map(m, 0); }

int hive__ping_pack(hive_msg *m, uint64_t t_us, uint64_t unrel_sent)
{
    TRY(hive_msg_array(m, 2));
    TRY(hive_msg_uint(m, t_us));
    return hive_msg_uint(m, unrel_sent);
}

/* Copies a string field of at most max bytes, NUL-terminated. Returns 0,
 * HIVE_ENOENT when absent, or HIVE_ETYPE / HIVE_ETOOBIG. */
static int get_strz(const msgpack_object *o, const char *key, char *dst, size_t max)
{
    const char *s;
    size_t n;
    int rc = hive_msg_get_str(o, key, &s, &n);
    if (rc) return rc;
    if (n > max || memchr(s, 0, n)) return HIVE_ETOOBIG;
    memcpy(dst, s, n);
    dst[n] = 0;
    return 0;
}

static int get_u32(const msgpack_object *o, const char *key, uint32_t *out)
{
    uint64_t v;
    int rc = hive_msg_get_uint(o, key, &v);
    if (rc) return rc;
    if (v > UINT32_MAX) return HIVE_ETYPE;
    *out = (uint32_t)v;
    return 0;
}

/* An optional bool under key (absent or nil: false). HIVE_ETYPE for
 * anything else. */
static int get_flag(const msgpack_object *o, const char *key, bool *out)
{
    const msgpack_object *v = hive_msg_get(o, key);
    *out = false;
    if (!v || v->type == MSGPACK_OBJECT_NIL) return 0;
    if (v->type != MSGPACK_OBJECT_BOOLEAN) return HIVE_ETYPE;
    *out = v->via.boolean;
    return 0;
}

/* The first checks of a link's opening frame (hello or resume), in the
 * order PROTOCOL.md gives: a map with the magic, then the version. */
static int opening_check(const msgpack_object *o)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP) return HIVE_CLOSE_BAD_MAGIC;
    if (!hive_msg_str_eq(hive_msg_get(o, "magic"), HIVE__MAGIC)) return HIVE_CLOSE_BAD_MAGIC;
    uint64_t proto;
    if (hive_msg_get_uint(o, "proto", &proto) || proto != HIVE_PROTOCOL_VERSION) return HIVE_CLOSE_PROTO_MISMATCH;
    return 0;
}

int hive__hello_parse(const msgpack_object *o, hive__hello_msg *out)
{
    memset(out, 0, sizeof *out);
    int who = opening_check(o);
    if (who) return who;
    if (get_strz(o, "app", out->app, HIVE__HELLO_STR_MAX)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_strz(o, "app_version", out->app_version, HIVE__HELLO_STR_MAX)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_strz(o, "conntype", out->conntype, HIVE__HELLO_STR_MAX)) return HIVE_CLOSE_BAD_HANDSHAKE;
    int rc = get_u32(o, "max_frame", &out->max_frame);
    if (rc == HIVE_ENOENT) out->max_frame = 65536;
    else if (rc) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (out->max_frame < HIVE_MIN_MAX_FRAME) return HIVE_CLOSE_BAD_HANDSHAKE;

    const msgpack_object *t = hive_msg_get(o, "token");
    if (t && t->type == MSGPACK_OBJECT_BIN) {
        out->token = t->via.bin.ptr;
        out->token_len = t->via.bin.size;
    } else if (t && t->type == MSGPACK_OBJECT_STR) {
        out->token = t->via.str.ptr;
        out->token_len = t->via.str.size;
    } else if (t && t->type != MSGPACK_OBJECT_NIL) {
        return HIVE_CLOSE_BAD_HANDSHAKE;
    }
    if (out->token_len > HIVE__TOKEN_MAX) return HIVE_CLOSE_BAD_HANDSHAKE;
    const msgpack_object *r = hive_msg_get(o, "resume");
    if (r && r->type == MSGPACK_OBJECT_BOOLEAN) out->resume = r->via.boolean;
    else if (r && r->type != MSGPACK_OBJECT_NIL) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_flag(o, "pieces", &out->pieces)) return HIVE_CLOSE_BAD_HANDSHAKE;
    /* compress: the algorithms the client decodes; unknown names are
     * skipped (a later one may be added), anything but an array of
     * strings is malformed. */
    const msgpack_object *z = hive_msg_get(o, "compress");
    if (z && z->type == MSGPACK_OBJECT_ARRAY) {
        if (z->via.array.size > 16) return HIVE_CLOSE_BAD_HANDSHAKE;
        for (uint32_t i = 0; i < z->via.array.size; i++) {
            if (z->via.array.ptr[i].type != MSGPACK_OBJECT_STR) return HIVE_CLOSE_BAD_HANDSHAKE;
            if (hive_msg_str_eq(&z->via.array.ptr[i], "zstd")) out->zstd = true;
        }
    } else if (z && z->type != MSGPACK_OBJECT_NIL) {
        return HIVE_CLOSE_BAD_HANDSHAKE;
    }
    return 0;
}

/* A bin of exactly HIVE__RESUME_TOKEN bytes under key. */
static int get_token(const msgpack_object *o, const char *key, uint8_t *out)
{
    const msgpack_object *t = hive_msg_get(o, key);
    if (!t || t->type != MSGPACK_OBJECT_BIN || t->via.bin.size != HIVE__RESUME_TOKEN) return HIVE_ETYPE;
    memcpy(out, t->via.bin.ptr, HIVE__RESUME_TOKEN);
    return 0;
}

int hive__resume_parse(const msgpack_object *o, hive__resume_msg *out)
{
    memset(out, 0, sizeof *out);
    int who = opening_check(o);
    if (who) return who;
    if (get_strz(o, "app", out->app, HIVE__HELLO_STR_MAX)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_u32(o, "cid", &out->cid) || out->cid == 0) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_token(o, "token", out->token)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (hive_msg_get_uint(o, "recv", &out->recv)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (hive__lanecounts_get(o, "recv_lanes", &out->recv_lanes)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_u32(o, "max_frame", &out->max_frame) || out->max_frame < HIVE_MIN_MAX_FRAME)
        return HIVE_CLOSE_BAD_HANDSHAKE;
    return 0;
}

int hive__resumed_parse(const msgpack_object *o, hive__resumed_msg *out)
{
    memset(out, 0, sizeof *out);
    if (!o || o->type != MSGPACK_OBJECT_MAP) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_u32(o, "cid", &out->cid) || out->cid == 0) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_token(o, "token", out->token)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (hive_msg_get_uint(o, "recv", &out->recv)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (hive__lanecounts_get(o, "recv_lanes", &out->recv_lanes)) return HIVE_CLOSE_BAD_HANDSHAKE;
    return 0;
}

int hive__welcome_parse(const msgpack_object *o, hive__welcome_msg *out)
{
    memset(out, 0, sizeof *out);
    if (!o || o->type != MSGPACK_OBJECT_MAP) return HIVE_CLOSE_BAD_HANDSHAKE;
    uint64_t proto;
    if (hive_msg_get_uint(o, "proto", &proto) || proto != HIVE_PROTOCOL_VERSION)
        return HIVE_CLOSE_PROTO_MISMATCH;
    if (get_u32(o, "cid", &out->cid) || out->cid == 0) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (hive_msg_get_uint(o, "session", &out->session)) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_u32(o, "heartbeat_ms", &out->heartbeat_ms) || out->heartbeat_ms == 0)
        return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_u32(o, "heartbeat_timeout_ms", &out->heartbeat_timeout_ms) ||
        out->heartbeat_timeout_ms <= out->heartbeat_ms)
        return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_u32(o, "max_frame", &out->max_frame) || out->max_frame < HIVE_MIN_MAX_FRAME)
        return HIVE_CLOSE_BAD_HANDSHAKE;
    int rc = get_strz(o, "app_version", out->app_version, HIVE__HELLO_STR_MAX);
    if (rc && rc != HIVE_ENOENT) return HIVE_CLOSE_BAD_HANDSHAKE;
    const msgpack_object *reg = hive_msg_get(o, "registry");
    if (!reg) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (hive_msg_get(o, "resume_token")) {
        if (get_token(o, "resume_token", out->token)) return HIVE_CLOSE_BAD_HANDSHAKE;
        out->has_token = true;
    }
    /* compress: what the server chose among those offered; a name this
     * client never offered is a broken server. */
    const msgpack_object *z = hive_msg_get(o, "compress");
    if (z && hive_msg_str_eq(z, "zstd")) out->zstd = true;
    else if (z && z->type != MSGPACK_OBJECT_NIL) return HIVE_CLOSE_BAD_HANDSHAKE;
    if (get_flag(o, "pieces", &out->pieces)) return HIVE_CLOSE_BAD_HANDSHAKE;
    rc = hive__registry_from_msgpack(reg, &out->registry);
    if (rc == HIVE_ENOMEM) return HIVE_CLOSE_NO_MEMORY;
    if (rc) return HIVE_CLOSE_BAD_HANDSHAKE;
    return 0;
}

int hive__close_parse(const msgpack_object *o, hive__close_msg *out)
{
    memset(out, 0, sizeof *out);
    if (!o || o->type != MSGPACK_OBJECT_MAP) return HIVE_CLOSE_BAD_HANDSHAKE;
    uint64_t r;
    if (hive_msg_get_uint(o, "reason", &r) || r > HIVE_CLOSE_MAX) return HIVE_CLOSE_BAD_HANDSHAKE;
    out->reason = (int)r;
    const char *s;
    size_t n;
    if (hive_msg_get_str(o, "message", &s, &n) == 0) {
        if (n > HIVE__CLOSE_MSG_MAX) n = HIVE__CLOSE_MSG_MAX;
        memcpy(out->message, s, n);
        out->message[n] = 0;
        /* A message is text for logs; an embedded NUL just ends it early. */
    }
    /* Optional; a value of the wrong type is ignored like an unknown key
     * (it only refines the close event's delivery count). */
    uint64_t got;
    if (hive_msg_get_uint(o, "received", &got) == 0) {
        out->has_received = true;
        out->received = got;
        if (hive__lanecounts_get(o, "received_lanes", &out->received_lanes)) out->received_lanes.n = 0;
    }
    /* A redirect's target: all three, valid, or none (then the close is a
     * close like any other). */
    uint64_t tc;
    const void *tok;
    size_t tn;
    if (out->reason == HIVE_CLOSE_REDIRECT && get_strz(o, "to", out->to, sizeof out->to - 1) == 0 && out->to[0] &&
        hive_msg_get_uint(o, "to_cid", &tc) == 0 && tc > 0 && tc <= UINT32_MAX &&
        hive_msg_get_bin(o, "to_token", &tok, &tn) == 0 && tn == HIVE__RESUME_TOKEN) {
        out->has_redirect = true;
        out->to_cid = (uint32_t)tc;
        memcpy(out->to_token, tok, HIVE__RESUME_TOKEN);
    }
    return 0;
}
