/* hive_msg_check: the receiver's scan, callable by users, with a reason. */
#include <criterion/criterion.h>
#include "hive/msg.h"

#include <string.h>

static int check(const void *p, size_t n, char *why)
{
    return hive_msg_check(p, n, why, 128);
}

Test(msg_check, miscounted_map_names_declared_and_found, .timeout = 5)
{
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 3);
    hive_msg_kv_int(&m, "a", 1);
    hive_msg_kv_int(&m, "b", 2);
    char why[128];
    cr_expect_eq(check(hive_msg_data(&m), hive_msg_size(&m), why), HIVE_EMSGPACK);
    cr_expect_str_eq(why, "map declared 3 pairs, found 2");
    /* One key too many. */
    hive_msg_key(&m, "c");
    cr_expect_eq(check(hive_msg_data(&m), hive_msg_size(&m), why), HIVE_EMSGPACK);
    cr_expect_str_eq(why, "map declared 3 pairs, found 2 and a key without a value");
    hive_msg_int(&m, 3);
    cr_expect_eq(check(hive_msg_data(&m), hive_msg_size(&m), why), 0);
    cr_expect_str_eq(why, "");
    hive_msg_free(&m);
}

Test(msg_check, miscounted_arrays_inner_and_outer, .timeout = 5)
{
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_key(&m, "players");
    hive_msg_array(&m, 4);
    hive_msg_int(&m, 1);
    hive_msg_int(&m, 2);
    char why[128];
    cr_expect_eq(check(hive_msg_data(&m), hive_msg_size(&m), why), HIVE_EMSGPACK);
    cr_expect_str_eq(why, "array declared 4 elements, found 2");
    hive_msg_reset(&m);
    /* Declared too few: the rest trails the value. */
    hive_msg_array(&m, 1);
    hive_msg_int(&m, 1);
    hive_msg_str(&m, "xy");
    cr_expect_eq(check(hive_msg_data(&m), hive_msg_size(&m), why), HIVE_EMSGPACK);
    cr_expect(strstr(why, "3 bytes after the end of the value") == why, "%s", why);
    hive_msg_free(&m);
}

Test(msg_check, other_faults_are_named, .timeout = 5)
{
    char why[128];
    cr_expect_eq(check("", 0, why), HIVE_EMSGPACK);
    cr_expect(strstr(why, "empty body"), "%s", why);
    cr_expect_eq(check("\xc1", 1, why), HIVE_EMSGPACK);
    cr_expect(strstr(why, "0xc1"), "%s", why);
    cr_expect_eq(check("\xa5" "ab", 3, why), HIVE_EMSGPACK);          /* str of 5, 2 there */
    cr_expect_str_eq(why, "value at offset 0 declares 5 bytes, 2 left");
    cr_expect_eq(check("\xdd\x00\x01", 3, why), HIVE_EMSGPACK);       /* cut in its size */
    cr_expect(strstr(why, "size field"), "%s", why);
    /* A hostile count: refused at once, and still described. */
    cr_expect_eq(check("\xdd\xff\xff\xff\xff\x01", 6, why), HIVE_EMSGPACK);
    cr_expect_str_eq(why, "array declared 4294967295 elements, found 1");
    uint8_t deep[40];
    memset(deep, 0x91, sizeof deep);
    deep[39] = 0x01;
    cr_expect_eq(check(deep, sizeof deep, why), HIVE_EMSGPACK);
    cr_expect(strstr(why, "nested deeper"), "%s", why);
    cr_expect_eq(hive_msg_check(NULL, 3, why, sizeof why), HIVE_EINVAL);
    /* why is optional, and cut to its size. */
    cr_expect_eq(hive_msg_check("\x93\x01", 2, NULL, 0), HIVE_EMSGPACK);
    char small[8];
    cr_expect_eq(hive_msg_check("\x93\x01", 2, small, sizeof small), HIVE_EMSGPACK);
    cr_expect_str_eq(small, "array d");
}
