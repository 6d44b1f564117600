/* msg building: every writer produces what msgpack-c's packer produces. */
#include <criterion/criterion.h>
#include "hive/msg.h"

Test(msg_build, map_of_every_kind, .timeout = 5)
{
    hive_msg m;
    hive_msg_init(&m);
    cr_expect_eq(hive_msg_size(&m), 0);
    cr_assert_eq(hive_msg_map(&m, 8), 0);
    cr_assert_eq(hive_msg_kv_int(&m, "i", -5), 0);
    cr_assert_eq(hive_msg_kv_uint(&m, "u", UINT64_MAX), 0);
    cr_assert_eq(hive_msg_kv_double(&m, "d", 2.5), 0);
    cr_assert_eq(hive_msg_kv_bool(&m, "b", true), 0);
    cr_assert_eq(hive_msg_kv_str(&m, "s", "hi"), 0);
    cr_assert_eq(hive_msg_kv_bin(&m, "x", "\x01\x02", 2), 0);
    cr_assert_eq(hive_msg_kv_nil(&m, "n"), 0);
    cr_assert_eq(hive_msg_key(&m, "a"), 0);
    cr_assert_eq(hive_msg_array(&m, 2), 0);
    cr_assert_eq(hive_msg_int(&m, 1), 0);
    cr_assert_eq(hive_msg_strn(&m, "abc", 2), 0);

    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    int64_t i; uint64_t u; double d; bool b; const char *s; size_t n; const void *p;
    cr_expect_eq(hive_msg_get_int(v.obj, "i", &i), 0);      cr_expect_eq(i, -5);
    cr_expect_eq(hive_msg_get_uint(v.obj, "u", &u), 0);     cr_expect_eq(u, UINT64_MAX);
    cr_expect_eq(hive_msg_get_double(v.obj, "d", &d), 0);   cr_expect_eq(d, 2.5);
    cr_expect_eq(hive_msg_get_bool(v.obj, "b", &b), 0);     cr_expect(b);
    cr_expect_eq(hive_msg_get_str(v.obj, "s", &s, &n), 0);
    cr_expect_eq(n, 2); cr_expect_eq(memcmp(s, "hi", 2), 0);
    cr_expect_eq(hive_msg_get_bin(v.obj, "x", &p, &n), 0);
    cr_expect_eq(n, 2); cr_expect_eq(memcmp(p, "\x01\x02", 2), 0);
    const msgpack_object *nil = hive_msg_get(v.obj, "n");
    cr_assert_not_null(nil); cr_expect_eq(nil->type, MSGPACK_OBJECT_NIL);
    const msgpack_object *a = hive_msg_get(v.obj, "a");
    cr_assert_not_null(a);
    cr_assert_eq(a->type, MSGPACK_OBJECT_ARRAY);
    cr_assert_eq(a->via.array.size, 2);
    cr_expect(hive_msg_str_eq(&a->via.array.ptr[1], "ab"));
    hive_msg_view_free(&v);
    hive_msg_free(&m);
}

Test(msg_build, same_bytes_as_msgpack_c, .timeout = 5)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_int64(&pk, 300);
    msgpack_pack_str_with_body(&pk, "s", 1);
    msgpack_pack_str_with_body(&pk, "v", 1);

    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 2);
    hive_msg_kv_int(&m, "k", 300);
    hive_msg_kv_str(&m, "s", "v");
    cr_assert_eq(hive_msg_size(&m), sb.size);
    cr_expect_eq(memcmp(hive_msg_data(&m), sb.data, sb.size), 0);
    hive_msg_free(&m);
    msgpack_sbuffer_destroy(&sb);
}

Test(msg_build, null_string_writes_nil, .timeout = 5)
{
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(hive_msg_str(&m, NULL), 0);
    cr_assert_eq(hive_msg_size(&m), 1);
    cr_expect_eq(((const uint8_t *)hive_msg_data(&m))[0], 0xc0);
    hive_msg_free(&m);
}

Test(msg_build, reset_reuses_and_free_is_reusable, .timeout = 5)
{
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_str(&m, "first message");
    hive_msg_reset(&m);
    cr_expect_eq(hive_msg_size(&m), 0);
    hive_msg_int(&m, 1);
    cr_expect_eq(hive_msg_size(&m), 1);
    hive_msg_free(&m);
    cr_expect_eq(hive_msg_size(&m), 0);
    hive_msg_int(&m, 2);               /* usable again without init */
    cr_expect_eq(hive_msg_size(&m), 1);
    hive_msg_free(&m);
    hive_msg_free(&m);
    hive_msg_free(NULL);
}

Test(msg_build, raw_forwards_an_encoded_object, .timeout = 5)
{
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_array(&m, 2);
    hive_msg_raw(&m, "\x81\xa1" "a\x01", 4);
    hive_msg_raw(&m, "\xc3", 1);
    cr_expect_eq(hive_msg_raw(&m, NULL, 1), HIVE_EINVAL);
    cr_expect_eq(hive_msg_raw(&m, NULL, 0), 0);
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    cr_assert_eq(v.obj->via.array.size, 2);
    int64_t x;
    cr_expect_eq(hive_msg_get_int(&v.obj->via.array.ptr[0], "a", &x), 0);
    cr_expect_eq(x, 1);
    hive_msg_view_free(&v);
    hive_msg_free(&m);
}
