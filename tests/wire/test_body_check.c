/* Body check: a frame body is exactly one valid msgpack object, and
 * hostile declared sizes fail fast without allocating. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include "net/wire/frame.h"

#define CHECK(bytes) hive__frame_check_body((const uint8_t *)(bytes), sizeof(bytes) - 1)

Test(body_check, valid_objects, .timeout = 5)
{
    cr_expect_eq(CHECK("\xc0"), 0);                         /* nil */
    cr_expect_eq(CHECK("\x81\xa1" "a\x01"), 0);              /* {"a":1} */
    cr_expect_eq(CHECK("\x92\x01\x92\x02\x03"), 0);          /* [1,[2,3]] */
    cr_expect_eq(CHECK("\x90"), 0);                          /* [] */
    cr_expect_eq(CHECK("\x80"), 0);                          /* {} */
    cr_expect_eq(CHECK("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"), 0);  /* 1.0 */
    cr_expect_eq(CHECK("\xc4\x02\xff\xfe"), 0);              /* bin 2 */
    cr_expect_eq(CHECK("\xd4\x01\x02"), 0);                  /* fixext1 */
    cr_expect_eq(CHECK("\xc7\x01\x05\xaa"), 0);              /* ext8 */
    cr_expect_eq(CHECK("\xdc\x00\x02\xc2\xc3"), 0);          /* array16 [false,true] */
    cr_expect_eq(CHECK("\xde\x00\x01\x01\x02"), 0);          /* map16 {1:2} */
    cr_expect_eq(CHECK("\xd9\x03" "abc"), 0);                /* str8 */
    cr_expect_eq(CHECK("\xff"), 0);                          /* -1 */
}

Test(body_check, packer_output_is_valid, .timeout = 5)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_int64(&pk, -123456789012345);
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_str_with_body(&pk, "l", 1);
    msgpack_pack_array(&pk, 300);
    for (int i = 0; i < 300; i++) msgpack_pack_uint64(&pk, (uint64_t)i << 40);
    cr_expect_eq(hive__frame_check_body((const uint8_t *)sb.data, sb.size), 0);
    msgpack_sbuffer_destroy(&sb);
}

Test(body_check, invalid_objects, .timeout = 5)
{
    cr_expect_eq(hive__frame_check_body(NULL, 0), HIVE_EMSGPACK);   /* empty */
    cr_expect_eq(CHECK("\xc1"), HIVE_EMSGPACK);                    /* never-used byte */
    cr_expect_eq(CHECK("\x92\x01"), HIVE_EMSGPACK);                /* array short one */
    cr_expect_eq(CHECK("\x81\xa1" "a"), HIVE_EMSGPACK);            /* map missing value */
    cr_expect_eq(CHECK("\xa5" "abc"), HIVE_EMSGPACK);              /* str short */
    cr_expect_eq(CHECK("\xcd\x01"), HIVE_EMSGPACK);                /* uint16 short */
    cr_expect_eq(CHECK("\xd8\x01\x02"), HIVE_EMSGPACK);            /* fixext16 short */
    cr_expect_eq(CHECK("\xc7\x02\x05\xaa"), HIVE_EMSGPACK);        /* ext8 short */
    cr_expect_eq(CHECK("\xdb\xff\xff\xff\xff" "a"), HIVE_EMSGPACK);/* str32 4 GB */
}

Test(body_check, trailing_bytes_are_rejected, .timeout = 5)
{
    cr_expect_eq(CHECK("\xc0\xc0"), HIVE_EMSGPACK);
    cr_expect_eq(CHECK("\x81\xa1" "a\x01\x00"), HIVE_EMSGPACK);
    cr_expect_eq(CHECK("\x90\x90"), HIVE_EMSGPACK);
}

/* A 5-byte body declaring a 4-billion-element array (or map) must fail at
 * once: the walk refuses it before msgpack-c would size a zone for 4
 * billion objects (~100 GB). Under ASan such an allocation would abort
 * the test, so passing here also proves it never happened. */
Test(body_check, huge_declared_array_fails_fast, .timeout = 5)
{
    const uint8_t arr[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    const uint8_t map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
    const uint8_t arr16[] = { 0xdc, 0xff, 0xff, 0xc0, 0xc0 };
    const uint8_t nested[] = { 0x91, 0x91, 0xdd, 0x10, 0x00, 0x00, 0x00, 0xc0 };
    uint64_t t0 = hive_now_ns();
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(hive__frame_check_body(arr, sizeof arr), HIVE_EMSGPACK);
        cr_assert_eq(hive__frame_check_body(map, sizeof map), HIVE_EMSGPACK);
        cr_assert_eq(hive__frame_check_body(arr16, sizeof arr16), HIVE_EMSGPACK);
        cr_assert_eq(hive__frame_check_body(nested, sizeof nested), HIVE_EMSGPACK);
    }
    uint64_t ms = (hive_now_ns() - t0) / 1000000;
    cr_expect_lt(ms, 1000, "4000 hostile bodies took %llu ms", (unsigned long long)ms);
}

Test(body_check, scan_bounds_counts_by_remaining_bytes, .timeout = 5)
{
    /* array of 3 declared with exactly 3 one-byte elements: fine;
     * array16 of 3 with 2: not. */
    cr_expect_eq(hive__msgpack_scan((const uint8_t *)"\xdc\x00\x03\x01\x02\x03", 6), 0);
    cr_expect_eq(hive__msgpack_scan((const uint8_t *)"\xdc\x00\x03\x01\x02", 5), HIVE_EMSGPACK);
    /* map16 of 2 pairs needs 4 values */
    cr_expect_eq(hive__msgpack_scan((const uint8_t *)"\xde\x00\x02\x01\x02\x03", 6), HIVE_EMSGPACK);
}

static size_t nested(uint8_t *buf, int depth)
{
    for (int i = 0; i < depth; i++) buf[i] = 0x91;   /* [ [ [ ... */
    buf[depth] = 0xc0;
    return (size_t)depth + 1;
}

Test(body_check, nesting_up_to_the_limit, .timeout = 5)
{
    uint8_t buf[4096];
    size_t n = nested(buf, HIVE__MSGPACK_MAX_DEPTH);
    cr_expect_eq(hive__frame_check_body(buf, n), 0);
    n = nested(buf, HIVE__MSGPACK_MAX_DEPTH + 1);
    cr_expect_eq(hive__frame_check_body(buf, n), HIVE_EMSGPACK);
    n = nested(buf, 4000);
    cr_expect_eq(hive__frame_check_body(buf, n), HIVE_EMSGPACK);
}

Test(body_check, scan_agrees_with_msgpack_c_on_depth, .timeout = 5)
{
    /* The walk's depth limit mirrors msgpack-c's: one deeper than our
     * limit is refused by msgpack-c too, so the two never disagree. */
    uint8_t buf[64];
    for (int d = HIVE__MSGPACK_MAX_DEPTH - 1; d <= HIVE__MSGPACK_MAX_DEPTH + 1; d++) {
        size_t n = nested(buf, d);
        msgpack_unpacked up;
        size_t off = 0;
        msgpack_unpacked_init(&up);
        int ok_c = msgpack_unpack_next(&up, (const char *)buf, n, &off) == MSGPACK_UNPACK_SUCCESS;
        msgpack_unpacked_destroy(&up);
        int ok_scan = hive__msgpack_scan(buf, n) == 0;
        cr_expect_eq(ok_c, ok_scan, "depth %d: msgpack-c %d, scan %d", d, ok_c, ok_scan);
    }
}
