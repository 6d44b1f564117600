/* Containers the builder counts: the same bytes as counted calls, at
 * every header-size boundary, nested, and refused when misused. */
#include <criterion/criterion.h>
#include "hive/msg.h"

#include <string.h>

static void same_bytes(const hive_msg *a, const hive_msg *b, const char *what)
{
    cr_assert_eq(hive_msg_size(a), hive_msg_size(b), "%s: %zu vs %zu bytes", what,
                 hive_msg_size(a), hive_msg_size(b));
    cr_assert_eq(memcmp(hive_msg_data(a), hive_msg_data(b), hive_msg_size(a)), 0, "%s: bytes differ", what);
}

/* An array of n ints and a map of n pairs, both ways, inside a counted
 * outer map so the patched header is not at offset 0. */
static void boundary(uint32_t n)
{
    hive_msg a, b;
    hive_msg_init(&a);
    hive_msg_init(&b);
    char key[16];

    hive_msg_map(&a, 2);
    hive_msg_key(&a, "arr");
    hive_msg_array(&a, n);
    for (uint32_t i = 0; i < n; i++) hive_msg_int(&a, i % 200);
    hive_msg_key(&a, "map");
    hive_msg_map(&a, n);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%u", i);
        hive_msg_kv_int(&a, key, 1);
    }

    hive_msg_map(&b, 2);
    hive_msg_key(&b, "arr");
    cr_assert_eq(hive_msg_array_begin(&b), 0);
    for (uint32_t i = 0; i < n; i++) hive_msg_int(&b, i % 200);
    cr_assert_eq(hive_msg_array_end(&b), 0);
    hive_msg_key(&b, "map");
    cr_assert_eq(hive_msg_map_begin(&b), 0);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%u", i);
        hive_msg_kv_int(&b, key, 1);
    }
    cr_assert_eq(hive_msg_map_end(&b), 0);

    char what[32];
    snprintf(what, sizeof what, "n=%u", n);
    same_bytes(&a, &b, what);
    cr_expect_eq(hive_msg_check(hive_msg_data(&b), hive_msg_size(&b), NULL, 0), 0);
    hive_msg_free(&a);
    hive_msg_free(&b);
}

Test(msg_begin_end, byte_identical_at_every_header_size, .timeout = 60)
{
    static const uint32_t ns[] = { 0, 1, 15, 16, 17, 65535, 65536, 70000 };
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) boundary(ns[i]);
}

Test(msg_begin_end, nested_and_mixed_with_counted_and_raw_packer, .timeout = 5)
{
    hive_msg a, b;
    hive_msg_init(&a);
    hive_msg_init(&b);
    /* {"players": [{"id":1,"pos":[1.5,2]}, {"id":2,"pos":[]}], "t": nil} */
    hive_msg_map(&a, 2);
    hive_msg_key(&a, "players");
    hive_msg_array(&a, 2);
    hive_msg_map(&a, 2); hive_msg_kv_int(&a, "id", 1);
    hive_msg_key(&a, "pos"); hive_msg_array(&a, 2); hive_msg_double(&a, 1.5); hive_msg_int(&a, 2);
    hive_msg_map(&a, 2); hive_msg_kv_int(&a, "id", 2);
    hive_msg_key(&a, "pos"); hive_msg_array(&a, 0);
    hive_msg_kv_nil(&a, "t");

    cr_assert_eq(hive_msg_map_begin(&b), 0);
    hive_msg_key(&b, "players");
    cr_assert_eq(hive_msg_array_begin(&b), 0);
    cr_assert_eq(hive_msg_map_begin(&b), 0);
    hive_msg_kv_int(&b, "id", 1);
    hive_msg_key(&b, "pos");
    hive_msg_array(&b, 2);                               /* counted, inside begun */
    msgpack_pack_double(&b.pk, 1.5);                     /* msgpack-c directly */
    hive_msg_int(&b, 2);
    cr_assert_eq(hive_msg_map_end(&b), 0);
    cr_assert_eq(hive_msg_map_begin(&b), 0);
    hive_msg_kv_int(&b, "id", 2);
    hive_msg_key(&b, "pos");
    cr_assert_eq(hive_msg_array_begin(&b), 0);
    cr_assert_eq(hive_msg_array_end(&b), 0);
    cr_assert_eq(hive_msg_map_end(&b), 0);
    cr_assert_eq(hive_msg_array_end(&b), 0);
    hive_msg_kv_nil(&b, "t");
    cr_assert_eq(hive_msg_map_end(&b), 0);
    same_bytes(&a, &b, "nested");
    hive_msg_free(&a);
    hive_msg_free(&b);
}

Test(msg_begin_end, misuse_is_refused_with_a_reason, .timeout = 5)
{
    hive_msg m;
    hive_msg_init(&m);
    cr_expect_eq(hive_msg_map_end(&m), HIVE_ESTATE, "nothing open");
    cr_assert_eq(hive_msg_map_begin(&m), 0);
    cr_expect_eq(hive_msg_array_end(&m), HIVE_ESTATE, "the other kind");
    hive_msg_key(&m, "lonely");
    cr_expect_eq(hive_msg_map_end(&m), HIVE_EMSGPACK);
    cr_expect(strstr(hive_msg_last_error(), "key without a value"), "%s", hive_msg_last_error());
    hive_msg_int(&m, 1);                                  /* the map stayed open: finish it */
    cr_expect_eq(hive_msg_map_end(&m), 0);
    cr_expect_eq(hive_msg_size(&m), 9u);                  /* 81 a6 "lonely" 01 */

    /* An unfinished counted container inside a begun one. */
    hive_msg_reset(&m);
    cr_assert_eq(hive_msg_array_begin(&m), 0);
    hive_msg_array(&m, 3);
    hive_msg_int(&m, 1);
    cr_expect_eq(hive_msg_array_end(&m), HIVE_EMSGPACK);
    cr_expect(strstr(hive_msg_last_error(), "array declared 3 elements, found 1"), "%s", hive_msg_last_error());

    /* Depth: HIVE_MSG_MAX_OPEN, then a clear refusal. */
    hive_msg_reset(&m);
    for (int i = 0; i < HIVE_MSG_MAX_OPEN; i++) cr_assert_eq(hive_msg_array_begin(&m), 0);
    cr_expect_eq(hive_msg_array_begin(&m), HIVE_ELIMIT);
    cr_expect_eq(hive_msg_map_begin(&m), HIVE_ELIMIT);
    for (int i = 0; i < HIVE_MSG_MAX_OPEN; i++) cr_assert_eq(hive_msg_array_end(&m), 0);
    cr_expect_eq(hive_msg_size(&m), (size_t)HIVE_MSG_MAX_OPEN);     /* 0x91 ... 0x90 */
    cr_expect_eq(hive_msg_check(hive_msg_data(&m), hive_msg_size(&m), NULL, 0), 0);
    cr_expect_eq(hive_msg_map_begin(NULL), HIVE_EINVAL);
    hive_msg_free(&m);
}
