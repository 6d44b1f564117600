/* Varints: LEB128, minimal on output, at most 5 bytes and 32 bits on input. */
#include <criterion/criterion.h>
#include "net/wire/frame.h"

static void roundtrip(uint32_t v, size_t want_len)
{
    uint8_t b[HIVE__VARINT_MAX];
    size_t n = hive__varint_encode(v, b);
    cr_assert_eq(n, want_len, "value %u encoded in %zu bytes", v, n);
    uint32_t got = 0;
    size_t used = 0;
    cr_assert_eq(hive__varint_decode(b, n, &got, &used), 0);
    cr_expect_eq(got, v);
    cr_expect_eq(used, n);
}

Test(varint, round_trips_at_every_length_boundary, .timeout = 5)
{
    roundtrip(0, 1);
    roundtrip(1, 1);
    roundtrip(127, 1);
    roundtrip(128, 2);
    roundtrip(16383, 2);
    roundtrip(16384, 3);
    roundtrip((1u << 21) - 1, 3);
    roundtrip(1u << 21, 4);
    roundtrip((1u << 28) - 1, 4);
    roundtrip(1u << 28, 5);
    roundtrip(UINT32_MAX, 5);
}

Test(varint, known_encodings, .timeout = 5)
{
    uint8_t b[HIVE__VARINT_MAX];
    cr_assert_eq(hive__varint_encode(0, b), 1);
    cr_expect_eq(b[0], 0x00);
    cr_assert_eq(hive__varint_encode(128, b), 2);
    cr_expect_eq(b[0], 0x80);
    cr_expect_eq(b[1], 0x01);
    cr_assert_eq(hive__varint_encode(300, b), 2);
    cr_expect_eq(b[0], 0xac);
    cr_expect_eq(b[1], 0x02);
    cr_assert_eq(hive__varint_encode(UINT32_MAX, b), 5);
    cr_expect_eq(b[4], 0x0f);
}

Test(varint, encode_refuses_over_32_bits, .timeout = 5)
{
    uint8_t b[HIVE__VARINT_MAX] = { 0xaa };
    cr_expect_eq(hive__varint_encode((uint64_t)UINT32_MAX + 1, b), 0);
    cr_expect_eq(b[0], 0xaa, "nothing written");
}

Test(varint, truncated_waits_for_more, .timeout = 5)
{
    uint8_t b[HIVE__VARINT_MAX];
    size_t n = hive__varint_encode(UINT32_MAX, b);
    uint32_t v = 77;
    size_t used = 99;
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(hive__varint_decode(b, i, &v, &used), HIVE_EAGAIN, "prefix of %zu bytes", i);
        cr_expect_eq(v, 77);
        cr_expect_eq(used, 99);
    }
    cr_expect_eq(hive__varint_decode(NULL, 0, &v, &used), HIVE_EAGAIN);
}

Test(varint, six_byte_varint_is_a_protocol_error, .timeout = 5)
{
    const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    uint32_t v;
    size_t used;
    cr_expect_eq(hive__varint_decode(six, sizeof six, &v, &used), HIVE_EPROTO);
    /* Known bad at the 5th byte already: no waiting for a 6th. */
    cr_expect_eq(hive__varint_decode(six, 5, &v, &used), HIVE_EPROTO);
    cr_expect_eq(hive__varint_decode(six, 4, &v, &used), HIVE_EAGAIN);
}

Test(varint, value_over_32_bits_is_a_protocol_error, .timeout = 5)
{
    const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0x10 };   /* 2^32 + ... */
    const uint8_t max[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };   /* UINT32_MAX */
    uint32_t v;
    size_t used;
    cr_expect_eq(hive__varint_decode(big, sizeof big, &v, &used), HIVE_EPROTO);
    cr_assert_eq(hive__varint_decode(max, sizeof max, &v, &used), 0);
    cr_expect_eq(v, UINT32_MAX);
    cr_expect_eq(used, 5);
}

Test(varint, non_minimal_within_five_bytes_is_accepted, .timeout = 5)
{
    const uint8_t zero2[] = { 0x80, 0x00 };
    const uint8_t one5[] = { 0x81, 0x80, 0x80, 0x80, 0x00 };
    uint32_t v = 9;
    size_t used;
    cr_assert_eq(hive__varint_decode(zero2, sizeof zero2, &v, &used), 0);
    cr_expect_eq(v, 0);
    cr_expect_eq(used, 2);
    cr_assert_eq(hive__varint_decode(one5, sizeof one5, &v, &used), 0);
    cr_expect_eq(v, 1);
    cr_expect_eq(used, 5);
}

Test(varint, decode_stops_at_the_varint, .timeout = 5)
{
    const uint8_t b[] = { 0x05, 0xff, 0xff };
    uint32_t v;
    size_t used;
    cr_assert_eq(hive__varint_decode(b, sizeof b, &v, &used), 0);
    cr_expect_eq(v, 5);
    cr_expect_eq(used, 1);
}
