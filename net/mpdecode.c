/* mpdecode.c - msgpack bodies into msgpack_object trees (net/mpdecode.h). */
#include "net/mpdecode.h"
#include "net/frame.h"

#include <string.h>

typedef struct mpd {
    const uint8_t *p;
    size_t n, pos;
    msgpack_zone *z;
} mpd;

static inline uint64_t be(const uint8_t *p, unsigned k)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < k; i++) v = (v << 8) | p[i];
    return v;
}

/* Reads a k-byte big-endian size or value; false when the input ends. */
static bool take(mpd *d, unsigned k, uint64_t *v)
{
    if (d->n - d->pos < k) return false;
    *v = be(d->p + d->pos, k);
    d->pos += k;
    return true;
}

/* A str or bin of size bytes at the read position. (An empty one points
 * where its bytes would be; msgpack-c's pointer is left to chance there.) */
static int bytes(mpd *d, msgpack_object *o, msgpack_object_type t, uint64_t size)
{
    if (size > d->n - d->pos) return HIVE_EMSGPACK;
    const char *ptr = (const char *)d->p + d->pos;
    d->pos += (size_t)size;
    o->type = t;
    if (t == MSGPACK_OBJECT_STR) {
        o->via.str.size = (uint32_t)size;
        o->via.str.ptr = ptr;
    } else {
        o->via.bin.size = (uint32_t)size;
        o->via.bin.ptr = ptr;
    }
    return 0;
}

/* size counts the type byte and the payload, as on the wire. */
static int ext(mpd *d, msgpack_object *o, uint64_t size)
{
    if (size == 0 || size > d->n - d->pos) return HIVE_EMSGPACK;
    o->type = MSGPACK_OBJECT_EXT;
    o->via.ext.type = (int8_t)d->p[d->pos];
    o->via.ext.ptr = (const char *)d->p + d->pos + 1;
    o->via.ext.size = (uint32_t)(size - 1);
    d->pos += (size_t)size;
    return 0;
}

static void integer(msgpack_object *o, int64_t v)
{
    if (v < 0) {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = v;
    } else {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = (uint64_t)v;
    }
}

static int value(mpd *d, msgpack_object *o, int depth);

/* The values game messages are mostly made of (small ints, short
 * strings, doubles), decoded where a container reads its elements instead
 * of through a call to value(). Returns 1 when it decoded one, 0 when
 * value() must. */
static inline __attribute__((always_inline)) int common(mpd *d, msgpack_object *o)
{
    if (d->pos >= d->n) return 0;
    uint8_t b = d->p[d->pos];
    if (b <= 0x7f) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = b;
        d->pos++;
        return 1;
    }
    if ((b & 0xe0) == 0xa0) {
        size_t size = b & 0x1f;
        if (size > d->n - d->pos - 1) return 0;
        o->type = MSGPACK_OBJECT_STR;
        o->via.str.size = (uint32_t)size;
        o->via.str.ptr = (const char *)d->p + d->pos + 1;
        d->pos += 1 + size;
        return 1;
    }
    if (b == 0xcb && d->n - d->pos > 8) {
        uint64_t v = be(d->p + d->pos + 1, 8);
        memcpy(&o->via.f64, &v, sizeof v);
        o->type = MSGPACK_OBJECT_FLOAT64;
        d->pos += 9;
        return 1;
    }
    return 0;
}

static int container(mpd *d, msgpack_object *o, uint64_t count, bool map, int depth)
{
    /* As the scan: no container once HIVE__MSGPACK_MAX_DEPTH are open, and
     * every element takes at least one byte. */
    if (depth >= HIVE__MSGPACK_MAX_DEPTH) return HIVE_EMSGPACK;
    uint64_t elems = map ? 2 * count : count;
    if (elems > d->n - d->pos) return HIVE_EMSGPACK;
    o->type = map ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
    /* Empty containers too get a (zero-size) block, as msgpack-c's do. */
    if (map) {
        msgpack_object_kv *kv = msgpack_zone_malloc(d->z, (size_t)count * sizeof *kv);
        if (!kv) return HIVE_ENOMEM;
        o->via.map.ptr = kv;
        o->via.map.size = (uint32_t)count;
        for (uint64_t i = 0; i < count; i++) {
            int rc = common(d, &kv[i].key) ? 0 : value(d, &kv[i].key, depth + 1);
            if (!rc && !common(d, &kv[i].val)) rc = value(d, &kv[i].val, depth + 1);
            if (rc) return rc;
        }
    } else {
        msgpack_object *a = msgpack_zone_malloc(d->z, (size_t)count * sizeof *a);
        if (!a) return HIVE_ENOMEM;
        o->via.array.ptr = a;
        o->via.array.size = (uint32_t)count;
        for (uint64_t i = 0; i < count; i++) {
            int rc = common(d, &a[i]) ? 0 : value(d, &a[i], depth + 1);
            if (rc) return rc;
        }
    }
    return 0;
}

static int value(mpd *d, msgpack_object *o, int depth)
{
    if (d->pos >= d->n) return HIVE_EMSGPACK;
    uint8_t b = d->p[d->pos++];
    uint64_t v;
    if (b <= 0x7f) {
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = b;
        return 0;
    }
    if (b >= 0xe0) {
        o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        o->via.i64 = (int8_t)b;
        return 0;
    }
    if (b <= 0x8f) return container(d, o, b & 0x0f, true, depth);
    if (b <= 0x9f) return container(d, o, b & 0x0f, false, depth);
    if (b <= 0xbf) return bytes(d, o, MSGPACK_OBJECT_STR, b & 0x1f);
    switch (b) {
    case 0xc0:
        o->type = MSGPACK_OBJECT_NIL;
        return 0;
    case 0xc2:
    case 0xc3:
        o->type = MSGPACK_OBJECT_BOOLEAN;
        o->via.boolean = b == 0xc3;
        return 0;
    case 0xc4: case 0xc5: case 0xc6:           /* bin 8/16/32 */
        if (!take(d, 1u << (b - 0xc4), &v)) return HIVE_EMSGPACK;
        return bytes(d, o, MSGPACK_OBJECT_BIN, v);
    case 0xc7: case 0xc8: case 0xc9:           /* ext 8/16/32: size, then the type byte */
        if (!take(d, 1u << (b - 0xc7), &v)) return HIVE_EMSGPACK;
        return ext(d, o, v + 1);
    case 0xca: {
        if (!take(d, 4, &v)) return HIVE_EMSGPACK;
        uint32_t bits = (uint32_t)v;
        float f;
        memcpy(&f, &bits, sizeof f);
        o->type = MSGPACK_OBJECT_FLOAT32;
        o->via.f64 = f;
        return 0;
    }
    case 0xcb: {
        if (!take(d, 8, &v)) return HIVE_EMSGPACK;
        double f;
        memcpy(&f, &v, sizeof f);
        o->type = MSGPACK_OBJECT_FLOAT64;
        o->via.f64 = f;
        return 0;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:   /* uint 8/16/32/64 */
        if (!take(d, 1u << (b - 0xcc), &v)) return HIVE_EMSGPACK;
        o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        o->via.u64 = v;
        return 0;
    case 0xd0:
        if (!take(d, 1, &v)) return HIVE_EMSGPACK;
        integer(o, (int8_t)v);
        return 0;
    case 0xd1:
        if (!take(d, 2, &v)) return HIVE_EMSGPACK;
        integer(o, (int16_t)v);
        return 0;
    case 0xd2:
        if (!take(d, 4, &v)) return HIVE_EMSGPACK;
        integer(o, (int32_t)v);
        return 0;
    case 0xd3:
        if (!take(d, 8, &v)) return HIVE_EMSGPACK;
        integer(o, (int64_t)v);
        return 0;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:   /* fixext 1..16 */
        return ext(d, o, 1 + (1u << (b - 0xd4)));
    case 0xd9: case 0xda: case 0xdb:           /* str 8/16/32 */
        if (!take(d, 1u << (b - 0xd9), &v)) return HIVE_EMSGPACK;
        return bytes(d, o, MSGPACK_OBJECT_STR, v);
    case 0xdc: case 0xdd:                      /* array 16/32 */
        if (!take(d, b == 0xdc ? 2 : 4, &v)) return HIVE_EMSGPACK;
        return container(d, o, v, false, depth);
    case 0xde: case 0xdf:                      /* map 16/32 */
        if (!take(d, b == 0xde ? 2 : 4, &v)) return HIVE_EMSGPACK;
        return container(d, o, v, true, depth);
    default:                                   /* 0xc1: never used */
        return HIVE_EMSGPACK;
    }
}

int hive__mp_decode(const uint8_t *p, size_t n, msgpack_zone *z, msgpack_object *out)
{
    if (!p || !z || !out) return HIVE_EMSGPACK;
    mpd d = { .p = p, .n = n, .pos = 0, .z = z };
    int rc = value(&d, out, 0);
    if (rc) return rc;
    return d.pos == n ? 0 : HIVE_EMSGPACK;
}

int hive__mp_unpack(msgpack_unpacked *up, const void *p, size_t n)
{
    if (!p && n) return HIVE_EMSGPACK;
    if (hive__msgpack_scan(p, n) != 0) return HIVE_EMSGPACK;
    /* A chunk sized to the message (every element takes a byte of it)
     * rather than msgpack-c's 8 KiB: small blocks stay in malloc's fast
     * path. The zone grows if a message needs more. */
    size_t chunk = 128 + 8 * n;
    if (chunk > MSGPACK_ZONE_CHUNK_SIZE) chunk = MSGPACK_ZONE_CHUNK_SIZE;
    msgpack_zone *z = msgpack_zone_new(chunk);
    if (!z) return HIVE_ENOMEM;
    int rc = hive__mp_decode(p, n, z, &up->data);
    if (rc) {
        msgpack_zone_free(z);
        up->data.type = MSGPACK_OBJECT_NIL;
        return rc;
    }
    if (up->zone) msgpack_zone_free(up->zone);
    up->zone = z;
    return 0;
}
