/* test_codec.c - the bridge's own envelope writer and reader against the
 * msgpack-c definitions they replace on the hot path (bridge/codec.h):
 * the same bytes out, the same verdict and fields in. No NATS needed. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "bridge/codec.h"

/* decode with both readers: the same verdict, and on success the same event */
static int both(const uint8_t *p, size_t n, hive__bridge_decoded *d, hive__bridge_decoded *r)
{
    int a = hive__bridge_decode(p, n, d), b = hive__bridge_decode_ref(p, n, r);
    cr_assert_eq(a, b, "fast %d, msgpack-c %d for %zu bytes", a, b, n);
    if (a == HIVE_OK) {
        cr_assert_str_eq(d->origin, r->origin);
        cr_assert_str_eq(d->name, r->name);
        cr_assert_eq(d->n, r->n);
        for (size_t i = 0; i < d->n; i++) cr_assert(hive__bridge_field_eq(&d->f[i], &r->f[i]), "field %zu", i);
    }
    return a;
}

static void encode_both(const char *name, const hive_field *f, size_t n, msgpack_sbuffer *out)
{
    msgpack_sbuffer ref;
    msgpack_sbuffer_init(&ref);
    cr_assert_eq(hive__bridge_encode(out, "node-1", name, f, n), HIVE_OK);
    cr_assert_eq(hive__bridge_encode_ref(&ref, "node-1", name, f, n), HIVE_OK);
    cr_assert_eq(out->size, ref.size, "%zu bytes against msgpack-c's %zu", out->size, ref.size);
    cr_assert(memcmp(out->data, ref.data, ref.size) == 0);
    msgpack_sbuffer_destroy(&ref);
}

Test(codec, every_integer_form_is_written_as_msgpack_c_writes_it_and_read_back)
{
    static const int64_t edges[] = { 0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                                     INT64_MAX, -1, -31, -32, -33, -127, -128, -129, -32768, -32769,
                                     -2147483648LL, -2147483649LL, INT64_MIN };
    hive__bridge_decoded d, r;
    cr_assert_eq(hive__bridge_decoded_init(&d), HIVE_OK);
    cr_assert_eq(hive__bridge_decoded_init(&r), HIVE_OK);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        hive_field f[] = { HIVE_INT("x", edges[i]), HIVE_DOUBLE("d", (double)edges[i] / 3.0) };
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        encode_both("game:n", f, 2, &sb);
        cr_assert_eq(both((const uint8_t *)sb.data, sb.size, &d, &r), HIVE_OK);
        cr_assert_eq(d.f[0].v.i, edges[i]);
        cr_assert_eq(d.f[1].v.d, (double)edges[i] / 3.0);
        msgpack_sbuffer_destroy(&sb);
    }
    hive__bridge_decoded_fini(&d);
    hive__bridge_decoded_fini(&r);
}

Test(codec, strings_bytes_and_msgpack_of_every_header_size)
{
    static const size_t lens[] = { 0, 1, 2, 4, 8, 15, 16, 17, 31, 32, 255, 256, 65535, 65536, 70000 };
    static uint8_t buf[70001];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)('a' + i % 26);
    hive__bridge_decoded d, r;
    cr_assert_eq(hive__bridge_decoded_init(&d), HIVE_OK);
    cr_assert_eq(hive__bridge_decoded_init(&r), HIVE_OK);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t l = lens[i];
        /* a MSGPACK value must be one object: a str of l - header bytes */
        uint8_t mp[70010];
        size_t ml = 0;
        if (l == 0) {
            ml = 0;
        } else if (l <= 32) {
            mp[0] = (uint8_t)(0xa0 | (l - 1));
            memset(mp + 1, 'm', l - 1);
            ml = l;
        } else {
            mp[0] = 0xdb;   /* str32: 5 header bytes */
            uint32_t b = (uint32_t)(l - 5);
            mp[1] = (uint8_t)(b >> 24); mp[2] = (uint8_t)(b >> 16); mp[3] = (uint8_t)(b >> 8); mp[4] = (uint8_t)b;
            memset(mp + 5, 'm', l - 5);
            ml = l;
        }
        hive_field f[3] = { { .key = "s", .type = HIVE_T_STR, .v.str = { (const char *)buf, l } },
                            HIVE_BYTES("b", buf, l), HIVE_MSGPACK("m", mp, ml, NULL) };
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        /* an empty MSGPACK value is no object: left out of that one */
        encode_both("game:len", f, l ? 3 : 2, &sb);
        cr_assert_eq(both((const uint8_t *)sb.data, sb.size, &d, &r), HIVE_OK, "length %zu", l);
        cr_assert_eq(d.f[0].v.str.len, l);
        cr_assert_eq(d.f[1].v.bytes.len, l);
        msgpack_sbuffer_destroy(&sb);
    }
    hive__bridge_decoded_fini(&d);
    hive__bridge_decoded_fini(&r);
}

Test(codec, every_truncation_and_every_flipped_byte_gets_the_same_verdict)
{
    uint8_t mp[] = { 0x92, 0x01, 0xa1, 'x' };
    hive_field f[] = { HIVE_INT("hp", -70000), HIVE_STR("text", "hello"), HIVE_DOUBLE("at", 1.5),
                       HIVE_BYTES("raw", "\x00\x01\x02", 3),
                       HIVE_MSGPACK("obj", mp, sizeof mp, NULL) };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    encode_both("game:hit", f, 5, &sb);
    hive__bridge_decoded d, r;
    cr_assert_eq(hive__bridge_decoded_init(&d), HIVE_OK);
    cr_assert_eq(hive__bridge_decoded_init(&r), HIVE_OK);
    cr_assert_eq(both((const uint8_t *)sb.data, sb.size, &d, &r), HIVE_OK);
    cr_assert_eq(d.n, 5);
    int refused = 0;
    for (size_t k = 0; k < sb.size; k++) refused += both((const uint8_t *)sb.data, k, &d, &r) != HIVE_OK;
    cr_assert_eq(refused, (int)sb.size, "every strict prefix is refused");
    uint8_t copy[512];
    cr_assert(sb.size <= sizeof copy);
    for (size_t k = 0; k < sb.size; k++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, sb.data, sb.size);
            copy[k] ^= (uint8_t)(1u << bit);
            both(copy, sb.size, &d, &r);
        }
    }
    msgpack_sbuffer_destroy(&sb);
    hive__bridge_decoded_fini(&d);
    hive__bridge_decoded_fini(&r);
}

static hive__bridge_decoded cd, cr;

static void check_case(const char *what, int want, const uint8_t *b, size_t n)
{
    int rc = both(b, n, &cd, &cr);
    cr_expect_eq(rc, want, "%s: %d", what, rc);
}

#define CASE(want, what, ...) \
    check_case(what, want, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))
/* the start of an envelope with v, o and n, wanting one more pair ("f") */
#define VON 0x84, 0xa1, 'v', 0x01, 0xa1, 'o', 0xa1, 'q', 0xa1, 'n', 0xa3, 'a', ':', 'b'

Test(codec, hand_made_envelopes_agree_with_msgpack_c)
{
    /* other forms than the writer's: unknown keys of any type, the version
     * as int8 or uint16, a float32, a map16 of fields, keys out of order */
    cr_assert_eq(hive__bridge_decoded_init(&cd), HIVE_OK);
    cr_assert_eq(hive__bridge_decoded_init(&cr), HIVE_OK);
    CASE(HIVE_OK, "unknown keys ignored, keys out of order", 0x86, 0xa1, 'x', 0x92, 0xc0, 0xc3, 0x07, 0xc0, 0xa1,
         'v', 0xd0, 0x01, 0xa1, 'f', 0x80, 0xa1, 'n', 0xa3, 'a', ':', 'b', 0xa1, 'o', 0xa1, 'q');
    CASE(HIVE_OK, "version uint16, a float32", 0x84, 0xa1, 'v', 0xcd, 0x00, 0x01, 0xa1, 'o', 0xa1, 'q', 0xa1, 'n',
         0xa3, 'a', ':', 'b', 0xa1, 'f', 0x81, 0xa1, 'k', 0xca, 0x3f, 0xc0, 0x00, 0x00);
    CASE(HIVE_EPROTO, "version 2", 0x84, 0xa1, 'v', 0x02, 0xa1, 'o', 0xa1, 'q', 0xa1, 'n', 0xa3, 'a', ':', 'b',
         0xa1, 'f', 0x80);
    CASE(HIVE_EPROTO, "version -1", 0x84, 0xa1, 'v', 0xff, 0xa1, 'o', 0xa1, 'q', 0xa1, 'n', 0xa3, 'a', ':', 'b',
         0xa1, 'f', 0x80);
    CASE(HIVE_EPROTO, "version twice", 0x85, 0xa1, 'v', 0x01, 0xa1, 'v', 0x01, 0xa1, 'o', 0xa1, 'q', 0xa1, 'n',
         0xa3, 'a', ':', 'b', 0xa1, 'f', 0x80);
    CASE(HIVE_EPROTO, "no fields", 0x83, 0xa1, 'v', 0x01, 0xa1, 'o', 0xa1, 'q', 0xa1, 'n', 0xa3, 'a', ':', 'b');
    CASE(HIVE_EPROTO, "a nil value", VON, 0xa1, 'f', 0xde, 0x00, 0x01, 0xa1, 'k', 0xc0);
    CASE(HIVE_EPROTO, "an array value", VON, 0xa1, 'f', 0x81, 0xa1, 'k', 0x91, 0x01);
    CASE(HIVE_OK, "map16 of fields, an int64", VON, 0xa1, 'f', 0xde, 0x00, 0x01, 0xa1, 'k', 0xd3, 0x80, 0, 0, 0, 0,
         0, 0, 0);
    CASE(HIVE_EPROTO, "uint64 over INT64_MAX", VON, 0xa1, 'f', 0x81, 0xa1, 'k', 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0);
    CASE(HIVE_EPROTO, "a reserved key", VON, 0xa1, 'f', 0x81, 0xa5, 'h', 'i', 'v', 'e', '.', 0x01);
    CASE(HIVE_EPROTO, "a key with NUL", VON, 0xa1, 'f', 0x81, 0xa2, 'k', 0x00, 0x01);
    CASE(HIVE_EPROTO, "an empty key", VON, 0xa1, 'f', 0x81, 0xa0, 0x01);
    CASE(HIVE_EPROTO, "a duplicate key", VON, 0xa1, 'f', 0x82, 0xa1, 'k', 0x01, 0xa1, 'k', 0x02);
    CASE(HIVE_EPROTO, "an int key", VON, 0xa1, 'f', 0x81, 0x01, 0x01);
    CASE(HIVE_OK, "a key named NUL at the top", 0x85, 0xa1, 0x00, 0x01, 0xa1, 'v', 0x01, 0xa1, 'o', 0xa1, 'q', 0xa1,
         'n', 0xa3, 'a', ':', 'b', 0xa1, 'f', 0x80);
    CASE(HIVE_EPROTO, "ext of type 2", VON, 0xa1, 'f', 0x81, 0xa1, 'k', 0xd4, 0x02, 0x01);
    CASE(HIVE_EPROTO, "ext that is two objects", VON, 0xa1, 'f', 0x81, 0xa1, 'k', 0xd5, 0x01, 0x01, 0x02);
    CASE(HIVE_OK, "ext8 of one object", VON, 0xa1, 'f', 0x81, 0xa1, 'k', 0xc7, 0x03, 0x01, 0x92, 0x01, 0x02);
    CASE(HIVE_EPROTO, "trailing byte", VON, 0xa1, 'f', 0x80, 0x00);
    CASE(HIVE_EPROTO, "a name that cannot cross", 0x84, 0xa1, 'v', 0x01, 0xa1, 'o', 0xa1, 'q', 0xa1, 'n', 0xa3, 'a',
         '.', 'b', 0xa1, 'f', 0x80);
    CASE(HIVE_EPROTO, "a bad origin", 0x84, 0xa1, 'v', 0x01, 0xa1, 'o', 0xa1, ' ', 0xa1, 'n', 0xa3, 'a', ':', 'b',
         0xa1, 'f', 0x80);
    CASE(HIVE_EPROTO, "origin as bin", 0x84, 0xa1, 'v', 0x01, 0xa1, 'o', 0xc4, 0x01, 'q', 0xa1, 'n', 0xa3, 'a', ':',
         'b', 0xa1, 'f', 0x80);
    CASE(HIVE_EPROTO, "not a map", 0x94, 0xa1, 'v', 0x01, 0xa1, 'o');
    CASE(HIVE_EPROTO, "a map that declares more than it holds", 0x8f, 0xa1, 'v', 0x01);
    hive__bridge_decoded_fini(&cd);
    hive__bridge_decoded_fini(&cr);
}

/* The decoder keeps the keys of one message for the next: a sequence
 * that changes, swaps, repeats and forges keys gets, message by message,
 * the verdict and the fields a fresh decoder gives. */
Test(codec, kept_keys_never_change_a_verdict)
{
    cr_assert_eq(hive__bridge_decoded_init(&cd), HIVE_OK);
    cr_assert_eq(hive__bridge_decoded_init(&cr), HIVE_OK);
    /* one decoder pair for the whole sequence: check_case reuses cd, cr */
    CASE(HIVE_OK, "a, b", VON, 0xa1, 'f', 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02);
    CASE(HIVE_OK, "a, b again", VON, 0xa1, 'f', 0x82, 0xa1, 'a', 0x03, 0xa1, 'b', 0x04);
    CASE(HIVE_OK, "b, a", VON, 0xa1, 'f', 0x82, 0xa1, 'b', 0x05, 0xa1, 'a', 0x06);
    CASE(HIVE_EPROTO, "b twice", VON, 0xa1, 'f', 0x82, 0xa1, 'b', 0x05, 0xa1, 'b', 0x06);
    CASE(HIVE_EPROTO, "a twice", VON, 0xa1, 'f', 0x82, 0xa1, 'a', 0x05, 0xa1, 'a', 0x06);
    CASE(HIVE_OK, "b alone", VON, 0xa1, 'f', 0x81, 0xa1, 'b', 0x07);
    CASE(HIVE_EPROTO, "b, hive.", VON, 0xa1, 'f', 0x82, 0xa1, 'b', 0x05, 0xa5, 'h', 'i', 'v', 'e', '.', 0x06);
    CASE(HIVE_OK, "b, c, a", VON, 0xa1, 'f', 0x83, 0xa1, 'b', 0x01, 0xa1, 'c', 0x02, 0xa1, 'a', 0x03);
    CASE(HIVE_EPROTO, "b, c, c", VON, 0xa1, 'f', 0x83, 0xa1, 'b', 0x01, 0xa1, 'c', 0x02, 0xa1, 'c', 0x03);
    CASE(HIVE_OK, "b, c, a again", VON, 0xa1, 'f', 0x83, 0xa1, 'b', 0x01, 0xa1, 'c', 0x02, 0xa1, 'a', 0x03);
    CASE(HIVE_EPROTO, "b, c with NUL", VON, 0xa1, 'f', 0x82, 0xa1, 'b', 0x01, 0xa2, 'c', 0x00, 0x02);
    CASE(HIVE_EPROTO, "b, then a bad value", VON, 0xa1, 'f', 0x82, 0xa1, 'b', 0x01, 0xa1, 'z', 0xc0);
    CASE(HIVE_OK, "b, z", VON, 0xa1, 'f', 0x82, 0xa1, 'b', 0x01, 0xa1, 'z', 0x02);
    CASE(HIVE_EPROTO, "z, z", VON, 0xa1, 'f', 0x82, 0xa1, 'z', 0x01, 0xa1, 'z', 0x02);
    hive__bridge_decoded_fini(&cd);
    hive__bridge_decoded_fini(&cr);
}
