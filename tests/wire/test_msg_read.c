/* msg reading: views reject anything but one object; getters check types. */
#include <criterion/criterion.h>
#include "hive/msg.h"

/* {"i": 7, "neg": -3, "f": 1.5, "s": "abc", "t": true, "big": 2^63} */
static const uint8_t MAP[] = {
    0x86,
    0xa1, 'i', 0x07,
    0xa3, 'n', 'e', 'g', 0xfd,
    0xa1, 'f', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
    0xa1, 's', 0xa3, 'a', 'b', 'c',
    0xa1, 't', 0xc3,
    0xa3, 'b', 'i', 'g', 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0,
};

Test(msg_read, typed_getters, .timeout = 5)
{
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, MAP, sizeof MAP), 0);
    int64_t i; uint64_t u; double d; bool b; const char *s; size_t n;
    cr_expect_eq(hive_msg_get_int(v.obj, "i", &i), 0);     cr_expect_eq(i, 7);
    cr_expect_eq(hive_msg_get_int(v.obj, "neg", &i), 0);   cr_expect_eq(i, -3);
    cr_expect_eq(hive_msg_get_uint(v.obj, "neg", &u), HIVE_ETYPE);
    cr_expect_eq(hive_msg_get_int(v.obj, "big", &i), HIVE_ETYPE, "2^63 does not fit int64");
    cr_expect_eq(hive_msg_get_uint(v.obj, "big", &u), 0);  cr_expect_eq(u, 1ull << 63);
    cr_expect_eq(hive_msg_get_double(v.obj, "f", &d), 0);  cr_expect_eq(d, 1.5);
    cr_expect_eq(hive_msg_get_double(v.obj, "i", &d), 0);  cr_expect_eq(d, 7.0);
    cr_expect_eq(hive_msg_get_double(v.obj, "neg", &d), 0); cr_expect_eq(d, -3.0);
    cr_expect_eq(hive_msg_get_int(v.obj, "f", &i), HIVE_ETYPE, "no silent float->int");
    cr_expect_eq(hive_msg_get_bool(v.obj, "t", &b), 0);    cr_expect(b);
    cr_expect_eq(hive_msg_get_str(v.obj, "s", &s, &n), 0);
    cr_expect_eq(n, 3);                                    cr_expect_eq(memcmp(s, "abc", 3), 0);
    cr_expect_eq(hive_msg_get_str(v.obj, "i", &s, &n), HIVE_ETYPE);
    cr_expect_eq(hive_msg_get_bool(v.obj, "s", &b), HIVE_ETYPE);
    cr_expect_eq(hive_msg_get_bin(v.obj, "s", NULL, NULL), HIVE_ETYPE);
    cr_expect_eq(hive_msg_get_int(v.obj, "missing", &i), HIVE_ENOENT);
    cr_expect_eq(hive_msg_get_int(v.obj, "i", NULL), 0, "out may be NULL");
    cr_expect_null(hive_msg_get(v.obj, "missing"));
    cr_expect_null(hive_msg_get(v.obj, "ne"), "no prefix match");
    cr_expect(hive_msg_str_eq(hive_msg_get(v.obj, "s"), "abc"));
    cr_expect_not(hive_msg_str_eq(hive_msg_get(v.obj, "s"), "ab"));
    cr_expect_not(hive_msg_str_eq(hive_msg_get(v.obj, "i"), "7"));
    hive_msg_view_free(&v);
    cr_expect_null(v.obj);
    hive_msg_view_free(&v);
}

Test(msg_read, getters_on_non_maps, .timeout = 5)
{
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, "\x91\x01", 2), 0);
    int64_t i;
    cr_expect_null(hive_msg_get(v.obj, "a"));
    cr_expect_eq(hive_msg_get_int(v.obj, "a", &i), HIVE_ETYPE);
    cr_expect_eq(hive_msg_get_int(NULL, "a", &i), HIVE_EINVAL);
    cr_expect_eq(hive_msg_get_int(v.obj, NULL, &i), HIVE_EINVAL);
    hive_msg_view_free(&v);
}

Test(msg_read, view_rejects_anything_but_one_object, .timeout = 5)
{
    hive_msg_view v;
    cr_expect_eq(hive_msg_view_init(&v, "", 0), HIVE_EMSGPACK);
    cr_expect_null(v.obj);
    hive_msg_view_free(&v);                                  /* harmless after failure */
    cr_expect_eq(hive_msg_view_init(&v, "\xc0\xc0", 2), HIVE_EMSGPACK, "trailing");
    cr_expect_eq(hive_msg_view_init(&v, "\x92\x01", 2), HIVE_EMSGPACK, "truncated");
    cr_expect_eq(hive_msg_view_init(&v, "\xc1", 1), HIVE_EMSGPACK, "invalid byte");
    cr_expect_eq(hive_msg_view_init(&v, "\xdd\xff\xff\xff\xff", 5), HIVE_EMSGPACK, "huge array");
    cr_expect_eq(hive_msg_view_init(&v, NULL, 3), HIVE_EINVAL);
    cr_expect_eq(hive_msg_view_init(NULL, "\xc0", 1), HIVE_EINVAL);
}

Test(msg_read, view_strings_point_into_the_raw_bytes, .timeout = 5)
{
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, MAP, sizeof MAP), 0);
    const char *s;
    cr_assert_eq(hive_msg_get_str(v.obj, "s", &s, NULL), 0);
    cr_expect((const uint8_t *)s >= MAP && (const uint8_t *)s < MAP + sizeof MAP);
    hive_msg_view_free(&v);
}
