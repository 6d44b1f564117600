/* msg.c - helpers over msgpack-c's sbuffer, packer and unpacker (hive/msg.h). */
#include "hive/msg.h"
#include "net/wire/frame.h"
#include "net/wire/mpdecode.h"

#include <string.h>

/* msgpack-c's packers return 0 or -1; -1 only ever means the sbuffer
 * could not grow. */
#define OK(call) ((call) == 0 ? 0 : HIVE_ENOMEM)

void hive_msg_init(hive_msg *m)
{
    msgpack_sbuffer_init(&m->buf);
    msgpack_packer_init(&m->pk, &m->buf, msgpack_sbuffer_write);
}

void hive_msg_reset(hive_msg *m)
{
    msgpack_sbuffer_clear(&m->buf);
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
