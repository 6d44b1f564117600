/* msg.c - helpers over msgpack-c's sbuffer, packer and unpacker (hive/msg.h). */
#include "hive/msg.h"
#include "net/wire/frame.h"
#include "net/wire/mpdecode.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* msgpack-c's packers return 0 or -1; -1 only ever means the sbuffer
 * could not grow. */
#define OK(call) ((call) == 0 ? 0 : HIVE_ENOMEM)

void hive_msg_init(hive_msg *m)
{
    msgpack_sbuffer_init(&m->buf);
    msgpack_packer_init(&m->pk, &m->buf, msgpack_sbuffer_write);
    m->open_n = 0;
    m->open_map = 0;
}

void hive_msg_reset(hive_msg *m)
{
    msgpack_sbuffer_clear(&m->buf);
    m->open_n = 0;
    m->open_map = 0;
}

void hive_msg_free(hive_msg *m)
{
    if (!m) return;
    msgpack_sbuffer_destroy(&m->buf);
    hive_msg_init(m);
}

const void *hive_msg_data(const hive_msg *m) { return m->buf.data; }
size_t hive_msg_size(const hive_msg *m) { return m->buf.size; }

int hive_msg_map(hive_msg *m, uint32_t n)   { return OK(msgpack_pack_map(&m->pk, n)); }
int hive_msg_array(hive_msg *m, uint32_t n) { return OK(msgpack_pack_array(&m->pk, n)); }
int hive_msg_nil(hive_msg *m)               { return OK(msgpack_pack_nil(&m->pk)); }
int hive_msg_bool(hive_msg *m, bool v)
{
    return OK(v ? msgpack_pack_true(&m->pk) : msgpack_pack_false(&m->pk));
}
int hive_msg_int(hive_msg *m, int64_t v)    { return OK(msgpack_pack_int64(&m->pk, v)); }
int hive_msg_uint(hive_msg *m, uint64_t v)  { return OK(msgpack_pack_uint64(&m->pk, v)); }
int hive_msg_double(hive_msg *m, double v)  { return OK(msgpack_pack_double(&m->pk, v)); }

int hive_msg_strn(hive_msg *m, const char *s, size_t len)
{
    if (!s) return hive_msg_nil(m);
    if (msgpack_pack_str(&m->pk, len)) return HIVE_ENOMEM;
    return OK(msgpack_pack_str_body(&m->pk, s, len));
}

int hive_msg_str(hive_msg *m, const char *s)
{
    return hive_msg_strn(m, s, s ? strlen(s) : 0);
}

int hive_msg_bin(hive_msg *m, const void *p, size_t len)
{
    if (!p && len) return hive_msg_nil(m);
    if (msgpack_pack_bin(&m->pk, len)) return HIVE_ENOMEM;
    return OK(msgpack_pack_bin_body(&m->pk, p, len));
}

int hive_msg_raw(hive_msg *m, const void *p, size_t len)
{
    if (!p && len) return HIVE_EINVAL;
    return len ? OK(msgpack_sbuffer_write(&m->buf, p, len)) : 0;
}

int hive_msg_key(hive_msg *m, const char *key)            { return hive_msg_str(m, key); }

/* Each kv helper writes the key, then the value; a failed key skips the value. */
int hive_msg_kv_nil(hive_msg *m, const char *key)
{
    int rc = hive_msg_key(m, key);
    return rc ? rc : hive_msg_nil(m);
}
int hive_msg_kv_bool(hive_msg *m, const char *key, bool v)
{
    int rc = hive_msg_key(m, key);
    return rc ? rc : hive_msg_bool(m, v);
}
int hive_msg_kv_int(hive_msg *m, const char *key, int64_t v)
{
    int rc = hive_msg_key(m, key);
    return rc ? rc : hive_msg_int(m, v);
}
int hive_msg_kv_uint(hive_msg *m, const char *key, uint64_t v)
{
    int rc = hive_msg_key(m, key);
    return rc ? rc : hive_msg_uint(m, v);
}
int hive_msg_kv_double(hive_msg *m, const char *key, double v)
{
    int rc = hive_msg_key(m, key);
    return rc ? rc : hive_msg_double(m, v);
}
int hive_msg_kv_str(hive_msg *m, const char *key, const char *v)
{
    int rc = hive_msg_key(m, key);
    return rc ? rc : hive_msg_str(m, v);
}
int hive_msg_kv_bin(hive_msg *m, const char *key, const void *p, size_t len)
{
    int rc = hive_msg_key(m, key);
    return rc ? rc : hive_msg_bin(m, p, len);
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

bool hive_msg_str_eq(const msgpack_object *o, const char *s)
{
    if (!o || !s || o->type != MSGPACK_OBJECT_STR) return false;
    size_t n = strlen(s);
    return o->via.str.size == n && (n == 0 || memcmp(o->via.str.ptr, s, n) == 0);
}

const msgpack_object *hive_msg_get(const msgpack_object *map, const char *key)
{
    if (!map || !key || map->type != MSGPACK_OBJECT_MAP) return NULL;
    /* Linear: message maps are a handful of keys; a lookup structure
     * would cost more to build than it saves. */
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (hive_msg_str_eq(&map->via.map.ptr[i].key, key)) return &map->via.map.ptr[i].val;
    return NULL;
}

/* Shared front of every typed getter. */
static int lookup(const msgpack_object *map, const char *key, const msgpack_object **v)
{
    if (!map || !key) return HIVE_EINVAL;
    if (map->type != MSGPACK_OBJECT_MAP) return HIVE_ETYPE;
    *v = hive_msg_get(map, key);
    return *v ? 0 : HIVE_ENOENT;
}

int hive_msg_get_int(const msgpack_object *map, const char *key, int64_t *out)
{
    const msgpack_object *v;
    int rc = lookup(map, key, &v);
    if (rc) return rc;
    int64_t x;
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) x = v->via.i64;
    else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX) x = (int64_t)v->via.u64;
    else return HIVE_ETYPE;
    if (out) *out = x;
    return 0;
}

int hive_msg_get_uint(const msgpack_object *map, const char *key, uint64_t *out)
{
    const msgpack_object *v;
    int rc = lookup(map, key, &v);
    if (rc) return rc;
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return HIVE_ETYPE;
    if (out) *out = v->via.u64;
    return 0;
}

int hive_msg_get_double(const msgpack_object *map, const char *key, double *out)
{
    const msgpack_object *v;
    int rc = lookup(map, key, &v);
    if (rc) return rc;
    double x;
    switch (v->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:          x = v->via.f64; break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: x = (double)v->via.u64; break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: x = (double)v->via.i64; break;
    default: return HIVE_ETYPE;
    }
    if (out) *out = x;
    return 0;
}

int hive_msg_get_bool(const msgpack_object *map, const char *key, bool *out)
{
    const msgpack_object *v;
    int rc = lookup(map, key, &v);
    if (rc) return rc;
    if (v->type != MSGPACK_OBJECT_BOOLEAN) return HIVE_ETYPE;
    if (out) *out = v->via.boolean;
    return 0;
}

int hive_msg_get_str(const msgpack_object *map, const char *key, const char **s, size_t *len)
{
    const msgpack_object *v;
    int rc = lookup(map, key, &v);
    if (rc) return rc;
    if (v->type != MSGPACK_OBJECT_STR) return HIVE_ETYPE;
    if (s) *s = v->via.str.ptr;
    if (len) *len = v->via.str.size;
    return 0;
}

int hive_msg_get_bin(const msgpack_object *map, const char *key, const void **p, size_t *len)
{
    const msgpack_object *v;
    int rc = lookup(map, key, &v);
    if (rc) return rc;
    if (v->type != MSGPACK_OBJECT_BIN) return HIVE_ETYPE;
    if (p) *p = v->via.bin.ptr;
    if (len) *len = v->via.bin.size;
    return 0;
}

int hive_msg_view_init(hive_msg_view *v, const void *raw, size_t len)
{
    if (!v) return HIVE_EINVAL;
    msgpack_unpacked_init(&v->up);
    v->obj = NULL;
    if (!raw && len) return HIVE_EINVAL;
    /* The allocation-free scan first (declared counts must be proven real
     * before anything is allocated for them), then the tree. */
    int rc = hive__mp_unpack(&v->up, raw, len);
    if (rc) {
        msgpack_unpacked_destroy(&v->up);
        return rc;
    }
    v->obj = &v->up.data;
    return 0;
}

void hive_msg_view_free(hive_msg_view *v)
{
    if (!v) return;
    msgpack_unpacked_destroy(&v->up);
    v->obj = NULL;
}

/* ------------------------------------------------------------------ */
/* Checking                                                             */
/* ------------------------------------------------------------------ */

/* Written only when a call is refused, so the success paths never touch it. */
static _Thread_local char g_last_error[160];

static void set_last_error(const char *why)
{
    const char *s = why && *why ? why : "invalid msgpack";
    size_t n = strlen(s);
    if (n >= sizeof g_last_error) n = sizeof g_last_error - 1;   /* cut, as documented */
    memcpy(g_last_error, s, n);
    g_last_error[n] = '\0';
}

const char *hive_msg_last_error(void) { return g_last_error; }

int hive_msg_check(const void *raw, size_t len, char *why, size_t n)
{
    if (why && n) why[0] = '\0';
    if (!raw && len) {
        if (why && n) snprintf(why, n, "NULL body with a length of %zu", len);
        return HIVE_EINVAL;
    }
    return hive__msgpack_explain(raw, len, why, n);
}

int hive__send_refuse(const void *body, size_t len)
{
    char why[sizeof g_last_error];
    hive__msgpack_explain(body, len, why, sizeof why);
    set_last_error(why);
    return HIVE_EMSGPACK;
}

int hive__send_unfinished(const hive_msg *m)
{
    if (m->open_n == 0) return 0;
    char why[sizeof g_last_error];
    snprintf(why, sizeof why, "%u container%s begun (hive_msg_%s_begin) and not ended",
             (unsigned)m->open_n, m->open_n == 1 ? "" : "s",
             (m->open_map >> (m->open_n - 1)) & 1u ? "map" : "array");
    set_last_error(why);
    return HIVE_EMSGPACK;
}

/* ------------------------------------------------------------------ */
/* Containers the builder counts                                        */
/* ------------------------------------------------------------------ */

/* The reserved header: the 32-bit form (1 type byte + 4 count bytes), the
 * largest a count can need; end writes the real one and closes the gap. */
#define RESERVED 5

static int begin(hive_msg *m, bool map)
{
    if (m->open_n >= HIVE_MSG_MAX_OPEN) return HIVE_ELIMIT;
    size_t at = m->buf.size;
    uint8_t h[RESERVED] = { map ? 0xdf : 0xdd, 0, 0, 0, 0 };
    if (msgpack_sbuffer_write(&m->buf, (const char *)h, sizeof h)) return HIVE_ENOMEM;
    m->open[m->open_n] = at;
    if (map) m->open_map |= 1u << m->open_n;
    else m->open_map &= ~(1u << m->open_n);
    m->open_n++;
    return 0;
}

/* The header msgpack_pack_map / msgpack_pack_array write for n. */
static size_t header_for(bool map, uint32_t n, uint8_t h[RESERVED])
{
    if (n < 16) { h[0] = (uint8_t)((map ? 0x80 : 0x90) | n); return 1; }
    if (n <= 0xffff) {
        h[0] = map ? 0xde : 0xdc;
        h[1] = (uint8_t)(n >> 8); h[2] = (uint8_t)n;
        return 3;
    }
    h[0] = map ? 0xdf : 0xdd;
    h[1] = (uint8_t)(n >> 24); h[2] = (uint8_t)(n >> 16); h[3] = (uint8_t)(n >> 8); h[4] = (uint8_t)n;
    return 5;
}

static int end(hive_msg *m, bool map)
{
    if (m->open_n == 0) return HIVE_ESTATE;
    uint32_t top = m->open_n - 1;
    if (((m->open_map >> top) & 1u) != (map ? 1u : 0u)) return HIVE_ESTATE;
    size_t at = m->open[top], body = at + RESERVED;
    uint8_t *d = (uint8_t *)m->buf.data;
    uint64_t values = 0;
    char why[sizeof g_last_error];
    /* Everything after the header is this container's: inner begun
     * containers have been ended (they are innermost), so their headers
     * are final and the walk counts them as one value each. */
    if (hive__msgpack_count(d + body, m->buf.size - body, &values, why, sizeof why)) {
        char full[sizeof g_last_error + 32];
        snprintf(full, sizeof full, "%s_end: %s", map ? "map" : "array", why);
        set_last_error(full);
        return HIVE_EMSGPACK;
    }
    if (map && values % 2) {
        set_last_error("map_end: a key without a value (odd number of values written)");
        return HIVE_EMSGPACK;
    }
    uint64_t n = map ? values / 2 : values;
    if (n > UINT32_MAX) {
        set_last_error(map ? "map_end: more than 2^32-1 pairs" : "array_end: more than 2^32-1 elements");
        return HIVE_EMSGPACK;
    }
    uint8_t h[RESERVED];
    size_t hs = header_for(map, (uint32_t)n, h);
    if (hs < RESERVED) memmove(d + at + hs, d + body, m->buf.size - body);
    memcpy(d + at, h, hs);
    m->buf.size -= RESERVED - hs;
    m->open_n = top;
    return 0;
}

int hive_msg_map_begin(hive_msg *m)   { return m ? begin(m, true) : HIVE_EINVAL; }
int hive_msg_array_begin(hive_msg *m) { return m ? begin(m, false) : HIVE_EINVAL; }
int hive_msg_map_end(hive_msg *m)     { return m ? end(m, true) : HIVE_EINVAL; }
int hive_msg_array_end(hive_msg *m)   { return m ? end(m, false) : HIVE_EINVAL; }

/* ------------------------------------------------------------------ */
/* Arrays, maps, paths                                                  */
/* ------------------------------------------------------------------ */

uint32_t hive_msg_len(const msgpack_object *o)
{
    if (!o) return 0;
    if (o->type == MSGPACK_OBJECT_ARRAY) return o->via.array.size;
    if (o->type == MSGPACK_OBJECT_MAP) return o->via.map.size;
    return 0;
}

const msgpack_object *hive_msg_at(const msgpack_object *arr, uint32_t i)
{
    if (!arr || arr->type != MSGPACK_OBJECT_ARRAY || i >= arr->via.array.size) return NULL;
    return &arr->via.array.ptr[i];
}

const msgpack_object *hive_msg_next(const msgpack_object *arr, uint32_t *i)
{
    if (!i) return NULL;
    const msgpack_object *e = hive_msg_at(arr, *i);
    if (e) (*i)++;
    return e;
}

bool hive_msg_next_pair(const msgpack_object *map, uint32_t *i,
                        const msgpack_object **key, const msgpack_object **val)
{
    if (!i || !map || map->type != MSGPACK_OBJECT_MAP || *i >= map->via.map.size) return false;
    const msgpack_object_kv *kv = &map->via.map.ptr[*i];
    if (key) *key = &kv->key;
    if (val) *val = &kv->val;
    (*i)++;
    return true;
}

/* s[0..n) as a decimal index; false for anything but digits or a value
 * over UINT32_MAX (then *out is out of range for any array). */
static bool parse_index(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 10) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX) return false;
    *out = v;
    return true;
}

/* One map step: a string key equal to k[0..n); failing that, for digits,
 * an integer key of that value. First match wins, as in hive_msg_get. */
static const msgpack_object *map_step(const msgpack_object *map, const char *k, size_t n)
{
    const msgpack_object_kv *kv = map->via.map.ptr;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (kv[i].key.type == MSGPACK_OBJECT_STR && kv[i].key.via.str.size == n &&
            (n == 0 || memcmp(kv[i].key.via.str.ptr, k, n) == 0))
            return &kv[i].val;
    uint64_t v;
    if (!parse_index(k, n, &v)) return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (kv[i].key.type == MSGPACK_OBJECT_POSITIVE_INTEGER && kv[i].key.via.u64 == v)
            return &kv[i].val;
    return NULL;
}

int hive_msg_find(const msgpack_object *root, const char *path, const msgpack_object **out)
{
    if (!out) return HIVE_EINVAL;
    *out = NULL;
    if (!root) return HIVE_ENOENT;
    const msgpack_object *cur = root;
    const char *p = path;
    while (p && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0) return HIVE_EINVAL;
        if (cur->type == MSGPACK_OBJECT_MAP) {
            cur = map_step(cur, p, n);
            if (!cur) return HIVE_ENOENT;
        } else if (cur->type == MSGPACK_OBJECT_ARRAY) {
            uint64_t i;
            bool digits = true;
            for (size_t k = 0; k < n; k++) digits = digits && p[k] >= '0' && p[k] <= '9';
            if (!digits) return HIVE_ETYPE;
            if (!parse_index(p, n, &i) || i >= cur->via.array.size) return HIVE_ENOENT;
            cur = &cur->via.array.ptr[i];
        } else {
            return HIVE_ETYPE;
        }
        if (!dot) break;
        p = dot + 1;
        if (!*p) return HIVE_EINVAL;        /* "a." ends in an empty step */
    }
    *out = cur;
    return 0;
}

const msgpack_object *hive_msg_path(const msgpack_object *root, const char *path)
{
    const msgpack_object *o;
    return hive_msg_find(root, path, &o) == 0 ? o : NULL;
}

int hive_msg_walk_find(const msgpack_object *root, const hive_msg_step *steps, size_t n,
                       const msgpack_object **out)
{
    if (!out || (!steps && n)) return HIVE_EINVAL;
    *out = NULL;
    if (!root) return HIVE_ENOENT;
    const msgpack_object *cur = root;
    for (size_t i = 0; i < n; i++) {
        if (steps[i].key) {
            if (cur->type != MSGPACK_OBJECT_MAP) return HIVE_ETYPE;
            cur = map_step(cur, steps[i].key, strlen(steps[i].key));
        } else {
            if (cur->type != MSGPACK_OBJECT_ARRAY) return HIVE_ETYPE;
            cur = hive_msg_at(cur, steps[i].index);
        }
        if (!cur) return HIVE_ENOENT;
    }
    *out = cur;
    return 0;
}

const msgpack_object *hive_msg_walk(const msgpack_object *root, const hive_msg_step *steps, size_t n)
{
    const msgpack_object *o;
    return hive_msg_walk_find(root, steps, n, &o) == 0 ? o : NULL;
}

/* ------------------------------------------------------------------ */
/* Typed reads of one value                                             */
/* ------------------------------------------------------------------ */

int hive_msg_as_int(const msgpack_object *o, int64_t *out)
{
    if (!o) return HIVE_ENOENT;
    int64_t x;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) x = o->via.i64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) x = (int64_t)o->via.u64;
    else return HIVE_ETYPE;
    if (out) *out = x;
    return 0;
}

int hive_msg_as_uint(const msgpack_object *o, uint64_t *out)
{
    if (!o) return HIVE_ENOENT;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return HIVE_ETYPE;
    if (out) *out = o->via.u64;
    return 0;
}

int hive_msg_as_double(const msgpack_object *o, double *out)
{
    if (!o) return HIVE_ENOENT;
    double x;
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:          x = o->via.f64; break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: x = (double)o->via.u64; break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: x = (double)o->via.i64; break;
    default: return HIVE_ETYPE;
    }
    if (out) *out = x;
    return 0;
}

int hive_msg_as_bool(const msgpack_object *o, bool *out)
{
    if (!o) return HIVE_ENOENT;
    if (o->type != MSGPACK_OBJECT_BOOLEAN) return HIVE_ETYPE;
    if (out) *out = o->via.boolean;
    return 0;
}

int hive_msg_as_str(const msgpack_object *o, const char **s, size_t *len)
{
    if (!o) return HIVE_ENOENT;
    if (o->type != MSGPACK_OBJECT_STR) return HIVE_ETYPE;
    if (s) *s = o->via.str.ptr;
    if (len) *len = o->via.str.size;
    return 0;
}

int hive_msg_as_bin(const msgpack_object *o, const void **p, size_t *len)
{
    if (!o) return HIVE_ENOENT;
    if (o->type != MSGPACK_OBJECT_BIN) return HIVE_ETYPE;
    if (p) *p = o->via.bin.ptr;
    if (len) *len = o->via.bin.size;
    return 0;
}

int hive_msg_as_nil(const msgpack_object *o)
{
    if (!o) return HIVE_ENOENT;
    return o->type == MSGPACK_OBJECT_NIL ? 0 : HIVE_ETYPE;
}

int hive_msg_as_array(const msgpack_object *o, uint32_t *n)
{
    if (!o) return HIVE_ENOENT;
    if (o->type != MSGPACK_OBJECT_ARRAY) return HIVE_ETYPE;
    if (n) *n = o->via.array.size;
    return 0;
}

int hive_msg_as_map(const msgpack_object *o, uint32_t *npairs)
{
    if (!o) return HIVE_ENOENT;
    if (o->type != MSGPACK_OBJECT_MAP) return HIVE_ETYPE;
    if (npairs) *npairs = o->via.map.size;
    return 0;
}

/* The path getters: resolve, then the value reader. A path that fails with
 * HIVE_EINVAL (a malformed path) is reported as such. */
#define RESOLVE(root, path)                                  \
    const msgpack_object *o;                                 \
    int rc = hive_msg_find((root), (path), &o);              \
    if (rc) return rc

int hive_msg_path_int(const msgpack_object *root, const char *path, int64_t *out)
{
    RESOLVE(root, path);
    return hive_msg_as_int(o, out);
}
int hive_msg_path_uint(const msgpack_object *root, const char *path, uint64_t *out)
{
    RESOLVE(root, path);
    return hive_msg_as_uint(o, out);
}
int hive_msg_path_double(const msgpack_object *root, const char *path, double *out)
{
    RESOLVE(root, path);
    return hive_msg_as_double(o, out);
}
int hive_msg_path_bool(const msgpack_object *root, const char *path, bool *out)
{
    RESOLVE(root, path);
    return hive_msg_as_bool(o, out);
}
int hive_msg_path_str(const msgpack_object *root, const char *path, const char **s, size_t *len)
{
    RESOLVE(root, path);
    return hive_msg_as_str(o, s, len);
}
int hive_msg_path_bin(const msgpack_object *root, const char *path, const void **p, size_t *len)
{
    RESOLVE(root, path);
    return hive_msg_as_bin(o, p, len);
}
int hive_msg_path_nil(const msgpack_object *root, const char *path)
{
    RESOLVE(root, path);
    return hive_msg_as_nil(o);
}
int hive_msg_path_array(const msgpack_object *root, const char *path, const msgpack_object **arr, uint32_t *n)
{
    RESOLVE(root, path);
    rc = hive_msg_as_array(o, n);
    if (rc == 0 && arr) *arr = o;
    return rc;
}
int hive_msg_path_map(const msgpack_object *root, const char *path, const msgpack_object **map, uint32_t *npairs)
{
    RESOLVE(root, path);
    rc = hive_msg_as_map(o, npairs);
    if (rc == 0 && map) *map = o;
    return rc;
}

int64_t hive_msg_int_or(const msgpack_object *root, const char *path, int64_t def)
{
    int64_t v;
    return hive_msg_path_int(root, path, &v) == 0 ? v : def;
}
uint64_t hive_msg_uint_or(const msgpack_object *root, const char *path, uint64_t def)
{
    uint64_t v;
    return hive_msg_path_uint(root, path, &v) == 0 ? v : def;
}
double hive_msg_double_or(const msgpack_object *root, const char *path, double def)
{
    double v;
    return hive_msg_path_double(root, path, &v) == 0 ? v : def;
}
bool hive_msg_bool_or(const msgpack_object *root, const char *path, bool def)
{
    bool v;
    return hive_msg_path_bool(root, path, &v) == 0 ? v : def;
}
const char *hive_msg_str_or(const msgpack_object *root, const char *path, const char *def, size_t *len)
{
    const char *s;
    size_t n;
    if (hive_msg_path_str(root, path, &s, &n) == 0) {
        if (len) *len = n;
        return s;
    }
    if (len) *len = def ? strlen(def) : 0;
    return def;
}

long hive_msg_copy_str(const msgpack_object *root, const char *path, char *buf, size_t n)
{
    if (!buf && n) return HIVE_EINVAL;
    if (n) buf[0] = '\0';
    const char *s;
    size_t len;
    int rc = hive_msg_path_str(root, path, &s, &len);
    if (rc) return rc;
    if (n) {
        size_t k = len < n - 1 ? len : n - 1;
        if (k) memcpy(buf, s, k);
        buf[k] = '\0';
    }
    return len > (size_t)LONG_MAX ? LONG_MAX : (long)len;
}
