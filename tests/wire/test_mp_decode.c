/*
 * hive__mp_decode / hive__mp_unpack (net/mpdecode.c) hand back exactly the
 * tree msgpack-c's unpacker builds, for every type code and width, signs,
 * float widths and bits, empty containers, nesting to the limit, random
 * values in random encodings, and random bytes that pass the scan; and
 * they refuse what is not exactly one object.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/wire/frame.h"
#include "net/wire/mpdecode.h"

/* Same type, same value; floats compared bit for bit (NaN too); every
 * container has a block. */
static bool same(const msgpack_object *a, const msgpack_object *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case MSGPACK_OBJECT_NIL: return true;
    case MSGPACK_OBJECT_BOOLEAN: return a->via.boolean == b->via.boolean;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return a->via.u64 == b->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return a->via.i64 == b->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return memcmp(&a->via.f64, &b->via.f64, sizeof(double)) == 0;
    /* Pointers into the input must match; an empty one's is msgpack-c's
     * leftover (see net/mpdecode.h) and has nothing to read. */
    case MSGPACK_OBJECT_STR:
        return a->via.str.size == b->via.str.size && (!a->via.str.size || a->via.str.ptr == b->via.str.ptr);
    case MSGPACK_OBJECT_BIN:
        return a->via.bin.size == b->via.bin.size && (!a->via.bin.size || a->via.bin.ptr == b->via.bin.ptr);
    case MSGPACK_OBJECT_EXT:
        return a->via.ext.type == b->via.ext.type && a->via.ext.size == b->via.ext.size &&
               a->via.ext.ptr == b->via.ext.ptr;
    case MSGPACK_OBJECT_ARRAY:
        if (a->via.array.size != b->via.array.size) return false;
        if (!a->via.array.ptr || !b->via.array.ptr) return false;
        for (uint32_t i = 0; i < a->via.array.size; i++)
            if (!same(&a->via.array.ptr[i], &b->via.array.ptr[i])) return false;
        return true;
    case MSGPACK_OBJECT_MAP:
        if (a->via.map.size != b->via.map.size) return false;
        if (!a->via.map.ptr || !b->via.map.ptr) return false;
        for (uint32_t i = 0; i < a->via.map.size; i++)
            if (!same(&a->via.map.ptr[i].key, &b->via.map.ptr[i].key) ||
                !same(&a->via.map.ptr[i].val, &b->via.map.ptr[i].val)) return false;
        return true;
    default:
        return false;
    }
}

/* Decodes p[0..n) both ways. Returns 1 when both succeed with the same
 * tree, 0 when both refuse, -1 when they disagree. */
static int compare(const uint8_t *p, size_t n)
{
    msgpack_zone *za = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    msgpack_zone *zb = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    cr_assert(za && zb);
    msgpack_object a, b;
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack((const char *)p, n, &off, za, &a);
    bool ok_a = r == MSGPACK_UNPACK_SUCCESS && off == n;
    bool ok_b = hive__mp_decode(p, n, zb, &b) == 0;
    int res = ok_a != ok_b ? -1 : !ok_a ? 0 : same(&a, &b) ? 1 : -1;
    if (res < 0) {   /* show the input that tells them apart */
        fprintf(stderr, "msgpack-c %s, hive %s:", ok_a ? "ok" : "refuses", ok_b ? "ok" : "refuses");
        for (size_t i = 0; i < n && i < 64; i++) fprintf(stderr, " %02x", p[i]);
        fprintf(stderr, "%s\n", n > 64 ? " ..." : "");
    }
    msgpack_zone_free(za);
    msgpack_zone_free(zb);
    return res;
}

#define SAME(bytes) cr_expect_eq(compare((const uint8_t *)(bytes), sizeof(bytes) - 1), 1, "%s", #bytes)

Test(mp_decode, every_type_code_as_msgpack_c, .timeout = 5)
{
    SAME("\x00"); SAME("\x7f"); SAME("\xe0"); SAME("\xff");            /* fixints */
    SAME("\xc0"); SAME("\xc2"); SAME("\xc3");                          /* nil, bools */
    SAME("\xcc\xff"); SAME("\xcd\xff\xff"); SAME("\xce\xff\xff\xff\xff");
    SAME("\xcf\xff\xff\xff\xff\xff\xff\xff\xff");                     /* uint64 max */
    SAME("\xd0\x7f"); SAME("\xd0\x80"); SAME("\xd1\x00\x05"); SAME("\xd1\x80\x00");
    SAME("\xd2\x00\x00\x00\x01"); SAME("\xd2\x80\x00\x00\x00");
    SAME("\xd3\x00\x00\x00\x00\x00\x00\x00\x00");                     /* int64 0: positive */
    SAME("\xd3\x80\x00\x00\x00\x00\x00\x00\x00");                     /* int64 min */
    SAME("\xca\x3f\x80\x00\x00"); SAME("\xca\x80\x00\x00\x00");       /* 1.0f, -0.0f */
    SAME("\xca\x7f\xc0\x00\x00"); SAME("\xca\x7f\x80\x00\x00");       /* NaN, inf */
    SAME("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"); SAME("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x01");
    SAME("\xa0"); SAME("\xa3" "abc"); SAME("\xd9\x00"); SAME("\xd9\x02" "hi");
    SAME("\xda\x00\x01" "x"); SAME("\xdb\x00\x00\x00\x01" "y");
    SAME("\xc4\x00"); SAME("\xc4\x02\x01\x02"); SAME("\xc5\x00\x01\x09"); SAME("\xc6\x00\x00\x00\x01\x09");
    SAME("\xd4\x01\x02"); SAME("\xd5\xff\x01\x02"); SAME("\xd6\x01" "abcd");
    SAME("\xd7\x01" "abcdefgh"); SAME("\xd8\x01" "abcdefghijklmnop");
    SAME("\xc7\x00\x05"); SAME("\xc7\x01\x05\xaa"); SAME("\xc8\x00\x01\x05\xaa");
    SAME("\xc9\x00\x00\x00\x01\x05\xaa");
    SAME("\x90"); SAME("\x80"); SAME("\xdc\x00\x00"); SAME("\xdf\x00\x00\x00\x00");
    SAME("\x92\x01\x92\x02\x90"); SAME("\x82\xa1" "a\x01\xa1" "b\x80");
    SAME("\xdc\x00\x02\xc2\xc3"); SAME("\xdd\x00\x00\x00\x01\xc0");
    SAME("\xde\x00\x01\x01\x02"); SAME("\x81\x92\x01\x02\x81\xc0\xc0");   /* container keys */
    SAME("\x85\xa3seq\x07\xa1x\xcb\x40\x00\x00\x00\x00\x00\x00\x00\xa1y\x00\xa3" "aim\xca\x3f\x80\x00\x00\xa1" "b\x03");
}

Test(mp_decode, refuses_what_is_not_one_object, .timeout = 5)
{
    msgpack_zone *z = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    msgpack_object o;
    static const struct { const char *b; size_t n; } bad[] = {
        { "", 0 }, { "\xc1", 1 }, { "\x01\x02", 2 }, { "\x92\x01", 2 }, { "\xa3" "ab", 3 },
        { "\xcd\x01", 2 }, { "\xd9", 1 }, { "\xc7\x02\x01", 3 }, { "\xdc\x00", 2 },
        { "\x81\x01", 2 }, { "\xdd\xff\xff\xff\xff", 5 }, { "\xd8\x01" "abc", 5 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(hive__mp_decode((const uint8_t *)bad[i].b, bad[i].n, z, &o), HIVE_EMSGPACK, "case %zu", i);
    msgpack_zone_free(z);
}

Test(mp_decode, nesting_to_the_scan_limit, .timeout = 5)
{
    uint8_t buf[64];
    msgpack_zone *z = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    msgpack_object o;
    for (int depth = 1; depth <= HIVE__MSGPACK_MAX_DEPTH + 1; depth++) {
        for (int i = 0; i < depth - 1; i++) buf[i] = 0x91;   /* [[[... */
        buf[depth - 1] = 0x90;                               /* ... []]] */
        bool ok = depth <= HIVE__MSGPACK_MAX_DEPTH;
        cr_expect_eq(hive__msgpack_scan(buf, (size_t)depth) == 0, ok, "scan at depth %d", depth);
        cr_expect_eq(hive__mp_decode(buf, (size_t)depth, z, &o) == 0, ok, "decode at depth %d", depth);
        if (ok) cr_expect_eq(compare(buf, (size_t)depth), 1, "depth %d", depth);
    }
    msgpack_zone_free(z);
}

/* ---- random values in random encodings ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct buf { uint8_t d[8192]; size_t n; } buf;
static bool put(buf *b, const void *p, size_t n)
{
    if (b->n + n > sizeof b->d) return false;
    memcpy(b->d + b->n, p, n);
    b->n += n;
    return true;
}
static bool put_be(buf *b, uint8_t head, uint64_t v, unsigned k)
{
    uint8_t t[9];
    t[0] = head;
    for (unsigned i = 0; i < k; i++) t[1 + i] = (uint8_t)(v >> (8 * (k - 1 - i)));
    return put(b, t, 1 + k);
}

/* One random value, any type and width, containers up to depth 6. */
static bool gen(buf *b, int depth)
{
    static const uint8_t filler[64] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.";
    unsigned kind = (unsigned)(rnd() % (depth < 6 ? 14 : 10));
    unsigned w = (unsigned)(rnd() % 4), k = 1u << w;
    uint64_t v = rnd() >> (rnd() % 64);
    size_t len = (size_t)(rnd() % 20);
    switch (kind) {
    case 0: { uint8_t c = (uint8_t)(rnd() % 0x80); return put(b, &c, 1); }
    case 1: { uint8_t c = (uint8_t)(0xe0 | (rnd() & 0x1f)); return put(b, &c, 1); }
    case 2: { uint8_t c = (uint8_t)(0xc0 + (rnd() % 3 ? 2 + rnd() % 2 : 0)); return put(b, &c, 1); }
    case 3: return put_be(b, (uint8_t)(0xcc + w), v, k);
    case 4: return put_be(b, (uint8_t)(0xd0 + w), v, k);
    case 5: return rnd() % 2 ? put_be(b, 0xca, (uint32_t)rnd(), 4) : put_be(b, 0xcb, rnd(), 8);
    case 6: case 7: {
        bool str = kind == 6;
        w = (unsigned)(rnd() % 3);
        bool ok = str && rnd() % 2 ? put(b, &(uint8_t){ (uint8_t)(0xa0 | len) }, 1)
                                   : put_be(b, (uint8_t)((str ? 0xd9 : 0xc4) + w), len, 1u << w);
        return ok && put(b, filler, len);
    }
    case 8: {
        if (rnd() % 2) {
            unsigned f = (unsigned)(rnd() % 5);
            return put(b, &(uint8_t){ (uint8_t)(0xd4 + f) }, 1) && put(b, filler, 1 + (1u << f));
        }
        w = (unsigned)(rnd() % 3);
        return put_be(b, (uint8_t)(0xc7 + w), len, 1u << w) && put(b, filler, 1 + len);
    }
    case 9: return put(b, &(uint8_t){ 0xc0 }, 1);
    default: {
        bool map = kind >= 12;
        size_t count = (size_t)(rnd() % 6);
        bool ok;
        if (rnd() % 2) ok = put(b, &(uint8_t){ (uint8_t)((map ? 0x80 : 0x90) | count) }, 1);
        else if (rnd() % 2) ok = put_be(b, map ? 0xde : 0xdc, count, 2);
        else ok = put_be(b, map ? 0xdf : 0xdd, count, 4);
        for (size_t i = 0; ok && i < (map ? 2 * count : count); i++) ok = gen(b, depth + 1);
        return ok;
    }
    }
}

Test(mp_decode, random_values_as_msgpack_c, .timeout = 20)
{
    int checked = 0;
    for (int i = 0; i < 20000; i++) {
        buf b = { .n = 0 };
        if (!gen(&b, 0)) continue;
        cr_assert_eq(hive__msgpack_scan(b.d, b.n), 0, "generated value %d fails the scan", i);
        int r = compare(b.d, b.n);
        cr_assert_eq(r, 1, "value %d (%zu bytes) decodes differently", i, b.n);
        /* Every strict prefix is refused by both. */
        if (i % 16 == 0)
            for (size_t k = 0; k < b.n; k++) cr_assert_neq(compare(b.d, k), -1, "prefix %zu of value %d", k, i);
        checked++;
    }
    cr_expect_gt(checked, 19000);
}

Test(mp_decode, random_bytes_that_pass_the_scan, .timeout = 20)
{
    int passed = 0;
    for (int i = 0; i < 200000; i++) {
        uint8_t p[12];
        size_t n = 1 + (size_t)(rnd() % sizeof p);
        for (size_t k = 0; k < n; k++) p[k] = (uint8_t)rnd();
        if (hive__msgpack_scan(p, n) != 0) continue;
        passed++;
        cr_assert_eq(compare(p, n), 1, "input %d decodes differently", i);
    }
    cr_expect_gt(passed, 1000);
}
