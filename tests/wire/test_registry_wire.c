/* Registry on the wire: pack/unpack round trip, all-or-nothing decode. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "net/wire/registry_wire.h"
#include "hive/msg.h"

static hive_registry *sample(void)
{
    hive_registry *r = hive_registry_create();
    cr_assert_eq(hive_registry_add(r, "game:chat", 0), 64);
    cr_assert_eq(hive_registry_add(r, "game:move", 200), 200);
    cr_assert_eq(hive_registry_add(r, "net:recv.x", HIVE_PID_MAX), (int)HIVE_PID_MAX);
    cr_assert_eq(hive_registry_set_delivery(r, 200, HIVE_UNRELIABLE), 0);
    cr_assert_eq(hive_registry_set_delivery(r, HIVE_PID_MAX, HIVE_UNORDERED), 0);
    return r;
}

/* Decode msgpack bytes as a table. Returns from_msgpack's code. */
static int decode(const void *raw, size_t len, hive_registry **out)
{
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, raw, len), 0, "test input must be valid msgpack");
    int rc = hive__registry_from_msgpack(v.obj, out);
    hive_msg_view_free(&v);
    return rc;
}

Test(registry_wire, round_trip, .timeout = 5)
{
    hive_registry *r = sample();
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(hive__registry_pack(r, &m.pk), 0);
    hive_registry *c = NULL;
    cr_assert_eq(decode(hive_msg_data(&m), hive_msg_size(&m), &c), 0);
    cr_assert_not_null(c);
    cr_expect_eq(hive_registry_count(c), 3);
    cr_expect_eq(hive_registry_id(c, "game:chat"), 64);
    cr_expect_eq(hive_registry_id(c, "game:move"), 200);
    cr_expect_eq(hive_registry_id(c, "net:recv.x"), (int)HIVE_PID_MAX);
    cr_expect_eq(hive_registry_delivery(c, 200), HIVE_UNRELIABLE);
    cr_expect_eq(hive_registry_delivery(c, 64), HIVE_RELIABLE);
    cr_expect_eq(hive_registry_delivery(c, HIVE_PID_MAX), HIVE_UNORDERED);
    hive_registry_destroy(c);
    hive_registry_destroy(r);
    hive_msg_free(&m);
}

Test(registry_wire, encoding_is_name_to_id_map, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    cr_assert_eq(hive_registry_add(r, "a", 64), 64);
    cr_assert_eq(hive_registry_add(r, "b", 65), 65);
    cr_assert_eq(hive_registry_set_delivery(r, 65, HIVE_UNRELIABLE), 0);
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(hive__registry_pack(r, &m.pk), 0);
    /* {"a": 64, "b": [65, 1]} */
    const uint8_t want[] = { 0x82, 0xa1, 'a', 0x40, 0xa1, 'b', 0x92, 0x41, 0x01 };
    cr_assert_eq(hive_msg_size(&m), sizeof want);
    cr_expect_eq(memcmp(hive_msg_data(&m), want, sizeof want), 0);
    hive_msg_free(&m);
    hive_registry_destroy(r);
}

Test(registry_wire, empty_table, .timeout = 5)
{
    hive_registry *c = NULL;
    cr_assert_eq(decode("\x80", 1, &c), 0);
    cr_expect_eq(hive_registry_count(c), 0);
    hive_registry_destroy(c);
}

Test(registry_wire, malformed_tables_fail_whole, .timeout = 5)
{
    static const struct { const char *what; const char *raw; size_t len; } cases[] = {
        { "not a map",        "\x91\x40", 2 },
        { "nil",              "\xc0", 1 },
        { "int key",          "\x81\x01\x40", 3 },
        { "bin key",          "\x81\xc4\x01" "a\x40", 5 },
        { "reserved id",      "\x81\xa1" "a\x07", 4 },
        { "id zero",          "\x81\xa1" "a\x00", 4 },
        { "negative id",      "\x81\xa1" "a\xff", 4 },
        { "id too big",       "\x81\xa1" "a\xce\x01\x00\x00\x00", 8 },
        { "string id",        "\x81\xa1" "a\xa1" "b", 5 },
        { "float id",         "\x81\xa1" "a\xca\x42\x80\x00\x00", 8 },
        { "bad name",         "\x81\xa2" "a:\x40", 5 },
        { "empty name",       "\x81\xa0\x40", 3 },
        { "name with NUL",    "\x81\xa3" "a\0b\x40", 6 },
        { "duplicate name",   "\x82\xa1" "a\x40\xa1" "a\x41", 7 },
        { "duplicate id",     "\x82\xa1" "a\x40\xa1" "b\x40", 7 },
        { "bad delivery",     "\x81\xa1" "a\x92\x40\x03", 6 },
        { "short entry",      "\x81\xa1" "a\x91\x40", 5 },
        { "long entry",       "\x81\xa1" "a\x94\x40\x00\x00\x00", 8 },
        { "channel too big",  "\x81\xa1" "a\x93\x40\x00\x20", 7 },
        { "negative channel", "\x81\xa1" "a\x93\x40\x00\xff", 7 },
        { "string channel",   "\x81\xa1" "a\x93\x40\x00\xa1" "b", 8 },
        { "good then bad",    "\x82\xa1" "a\x40\xa1" "b\x01", 7 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hive_registry *c = (hive_registry *)0x1;
        cr_expect_eq(decode(cases[i].raw, cases[i].len, &c), HIVE_EPROTO, "%s", cases[i].what);
        cr_expect_eq(c, (hive_registry *)0x1, "%s: out untouched", cases[i].what);
    }
}

/* A channel travels as a third element, only when it is not 0: a table
 * without channels is byte for byte what it always was. */
Test(registry_wire, channels_travel_and_only_when_used, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    cr_assert_eq(hive_registry_add(r, "a", 64), 64);
    cr_assert_eq(hive_registry_add(r, "b", 65), 65);
    cr_expect_eq(hive_registry_channels(r), 1u);
    cr_expect_eq(hive_registry_set_channel(r, 65, HIVE_CHANNELS_MAX), HIVE_EINVAL);
    cr_expect_eq(hive_registry_set_channel(r, 66, 1), HIVE_ENOENT);
    cr_expect_eq(hive_registry_set_channel(NULL, 65, 1), HIVE_EINVAL);
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(hive__registry_pack(r, &m.pk), 0);
    cr_assert_eq(hive_msg_size(&m), 7u);
    cr_expect_eq(memcmp(hive_msg_data(&m), "\x82\xa1" "a\x40\xa1" "b\x41", 7), 0);
    hive_msg_free(&m);

    cr_assert_eq(hive_registry_set_channel(r, 65, 31), 0);
    cr_expect_eq(hive_registry_channel(r, 65), 31u);
    cr_expect_eq(hive_registry_channel(r, 64), 0u);
    cr_expect_eq(hive_registry_channel(r, 99), 0u, "unknown ids are on channel 0");
    cr_expect_eq(hive_registry_channels(r), 32u);
    hive_msg_init(&m);
    cr_assert_eq(hive__registry_pack(r, &m.pk), 0);
    cr_assert_eq(hive_msg_size(&m), 10u);
    cr_expect_eq(memcmp(hive_msg_data(&m), "\x82\xa1" "a\x40\xa1" "b\x93\x41\x00\x1f", 10), 0);
    hive_registry *c = NULL;
    cr_assert_eq(decode(hive_msg_data(&m), hive_msg_size(&m), &c), 0);
    cr_expect_eq(hive_registry_channel(c, 65), 31u);
    cr_expect_eq(hive_registry_channel(c, 64), 0u);
    cr_expect_eq(hive_registry_delivery(c, 65), HIVE_RELIABLE);
    hive_registry_destroy(c);
    hive_msg_free(&m);
    hive_registry_destroy(r);
}

Test(registry_wire, null_arguments, .timeout = 5)
{
    hive_registry *c = NULL;
    cr_expect_eq(hive__registry_from_msgpack(NULL, &c), HIVE_EINVAL);
    cr_expect_eq(hive__registry_pack(NULL, NULL), HIVE_EINVAL);
}

Test(registry_wire, large_table_decodes_in_n_log_n, .timeout = 5)
{
    /* 50k entries, names and ids in scrambled order: a quadratic decoder
     * would take seconds here (a peer controls this size up to max_frame). */
    enum { N = 50000 };
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(hive_msg_map(&m, N), 0);
    char name[32];
    for (long i = 0; i < N; i++) {
        long k = (i * 7919) % N;
        snprintf(name, sizeof name, "t:%ld", k);
        cr_assert_eq(hive_msg_kv_uint(&m, name, 64 + (uint64_t)((k * 31) % N)), 0);
    }
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    uint64_t t0 = hive_now_ns();
    hive_registry *r = NULL;
    cr_assert_eq(hive__registry_from_msgpack(v.obj, &r), 0);
    uint64_t ms = (hive_now_ns() - t0) / 1000000;
    cr_expect_lt(ms, 1500, "decoding took %llu ms", (unsigned long long)ms);
    cr_expect_eq(hive_registry_count(r), N);
    int bad = 0;
    for (long k = 0; k < N; k += 97) {
        snprintf(name, sizeof name, "t:%ld", k);
        bad += hive_registry_id(r, name) != 64 + (k * 31) % N;
    }
    cr_expect_eq(bad, 0);
    hive_registry_destroy(r);
    hive_msg_view_free(&v);
    hive_msg_free(&m);
}
