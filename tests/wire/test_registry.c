/* Registry: names <-> ids, reserved ids, auto ids, duplicates, delivery. */
#include <criterion/criterion.h>
#include <stdio.h>
#include "hive/registry.h"

Test(registry, add_and_lookup_both_ways, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    cr_assert_not_null(r);
    cr_expect_eq(hive_registry_add(r, "game:chat", 100), 100);
    cr_expect_eq(hive_registry_add(r, "game:move", 70), 70);
    cr_expect_eq(hive_registry_id(r, "game:chat"), 100);
    cr_expect_eq(hive_registry_id(r, "game:move"), 70);
    cr_expect_str_eq(hive_registry_name(r, 100), "game:chat");
    cr_expect_str_eq(hive_registry_name(r, 70), "game:move");
    cr_expect_eq(hive_registry_count(r), 2);
    cr_expect_eq(hive_registry_id(r, "game:cha"), HIVE_ENOENT);
    cr_expect_eq(hive_registry_id(r, "game:chatter"), HIVE_ENOENT);
    cr_expect_null(hive_registry_name(r, 71));
    cr_expect_null(hive_registry_name(r, 0));
    hive_registry_destroy(r);
}

Test(registry, duplicate_name_or_id, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    cr_assert_eq(hive_registry_add(r, "game:chat", 100), 100);
    cr_expect_eq(hive_registry_add(r, "game:chat", 101), HIVE_EEXIST);
    cr_expect_eq(hive_registry_add(r, "game:chat", 0), HIVE_EEXIST);
    cr_expect_eq(hive_registry_add(r, "game:other", 100), HIVE_EEXIST);
    cr_expect_eq(hive_registry_count(r), 1);
    cr_expect_eq(hive_registry_id(r, "game:chat"), 100);
    hive_registry_destroy(r);
}

Test(registry, reserved_and_out_of_range_ids, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    for (uint32_t id = 1; id < HIVE_PID_USER_MIN; id++)
        cr_expect_eq(hive_registry_add(r, "game:x", id), HIVE_EINVAL, "id %u", id);
    cr_expect_eq(hive_registry_add(r, "game:x", HIVE_PID_MAX + 1), HIVE_EINVAL);
    cr_expect_eq(hive_registry_add(r, "game:x", UINT32_MAX), HIVE_EINVAL);
    cr_expect_eq(hive_registry_add(r, "game:x", HIVE_PID_MAX), (int)HIVE_PID_MAX);
    cr_expect_eq(hive_registry_add(r, "game:y", HIVE_PID_USER_MIN), (int)HIVE_PID_USER_MIN);
    hive_registry_destroy(r);
}

Test(registry, auto_ids_take_the_smallest_free_from_64, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    cr_expect_eq(hive_registry_add(r, "a", 0), 64);
    cr_expect_eq(hive_registry_add(r, "b", 0), 65);
    cr_expect_eq(hive_registry_add(r, "d", 67), 67);
    cr_expect_eq(hive_registry_add(r, "c", 0), 66);
    cr_expect_eq(hive_registry_add(r, "e", 0), 68);
    cr_expect_eq(hive_registry_add(r, "far", 1000), 1000);
    cr_expect_eq(hive_registry_add(r, "f", 0), 69);
    hive_registry_destroy(r);
}

Test(registry, names_follow_the_bus_rules, .timeout = 5)
{
    static const char *good[] = { "game:chat", "a", "net:recv.game:chat", "x_y-z/w+v@u#t$s",
                                  "A.B:C", "0:9" };
    static const char *bad[] = { "", ":", "game:", ":chat", "game::chat", "game..chat", "game chat",
                                 "game:*", "game:ch\xc3\xa9", "a.", "tab\t" };
    hive_registry *r = hive_registry_create();
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        cr_expect_gt(hive_registry_add(r, good[i], 0), 0, "\"%s\"", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(hive_registry_add(r, bad[i], 0), HIVE_EINVAL, "\"%s\"", bad[i]);
    char longname[200];
    memset(longname, 'a', sizeof longname);
    longname[128] = '\0';
    cr_expect_eq(hive_registry_add(r, longname, 0), HIVE_EINVAL, "128 bytes is too long");
    longname[127] = '\0';
    cr_expect_gt(hive_registry_add(r, longname, 0), 0, "127 bytes fits");
    hive_registry_destroy(r);
}

Test(registry, iterate_in_id_order, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    uint32_t ids[] = { 500, 64, 9000, 70, 65 };
    char name[32];
    for (size_t i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "p:%u", ids[i]);
        cr_assert_eq(hive_registry_add(r, name, ids[i]), (int)ids[i]);
    }
    uint32_t prev = 0;
    for (size_t i = 0; i < hive_registry_count(r); i++) {
        const char *n;
        uint32_t id;
        cr_assert_eq(hive_registry_at(r, i, &n, &id), 0);
        cr_expect_gt(id, prev);
        snprintf(name, sizeof name, "p:%u", id);
        cr_expect_str_eq(n, name);
        prev = id;
    }
    cr_expect_eq(hive_registry_at(r, 5, NULL, NULL), HIVE_ENOENT);
    hive_registry_destroy(r);
}

Test(registry, many_entries_stay_consistent, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    char name[32];
    /* interleave orders so both indexes see inserts in the middle */
    for (int i = 0; i < 2000; i++) {
        int k = (i * 7919) % 2000;
        snprintf(name, sizeof name, "t:%d", k);
        cr_assert_eq(hive_registry_add(r, name, 64 + (uint32_t)((k * 31) % 2000)), 64 + (k * 31) % 2000);
    }
    for (int k = 0; k < 2000; k++) {
        snprintf(name, sizeof name, "t:%d", k);
        int id = hive_registry_id(r, name);
        cr_assert_eq(id, 64 + (k * 31) % 2000);
        cr_assert_str_eq(hive_registry_name(r, (uint32_t)id), name);
    }
    cr_expect_eq(hive_registry_add(r, "next", 0), 2064);
    hive_registry_destroy(r);
}

Test(registry, delivery_defaults_to_reliable, .timeout = 5)
{
    hive_registry *r = hive_registry_create();
    cr_assert_eq(hive_registry_add(r, "game:move", 80), 80);
    cr_expect_eq(hive_registry_delivery(r, 80), HIVE_RELIABLE);
    cr_expect_eq(hive_registry_set_delivery(r, 80, HIVE_UNRELIABLE), 0);
    cr_expect_eq(hive_registry_delivery(r, 80), HIVE_UNRELIABLE);
    cr_expect_eq(hive_registry_set_delivery(r, 81, HIVE_UNRELIABLE), HIVE_ENOENT);
    cr_expect_eq(hive_registry_set_delivery(r, 80, HIVE_UNORDERED), 0);
    cr_expect_eq(hive_registry_delivery(r, 80), HIVE_UNORDERED);
    cr_expect_eq(hive_registry_set_delivery(r, 80, (hive_delivery)3), HIVE_EINVAL);
    cr_expect_eq(hive_registry_delivery(r, 80), HIVE_UNORDERED);
    cr_expect_eq(hive_registry_set_delivery(r, 80, (hive_delivery)7), HIVE_EINVAL);
    cr_expect_eq(hive_registry_delivery(r, 81), HIVE_RELIABLE);
    cr_expect_eq(hive_registry_delivery(NULL, 80), HIVE_RELIABLE);
    hive_registry_destroy(r);
}

Test(registry, null_arguments, .timeout = 5)
{
    hive_registry_destroy(NULL);
    cr_expect_eq(hive_registry_add(NULL, "a", 0), HIVE_EINVAL);
    hive_registry *r = hive_registry_create();
    cr_expect_eq(hive_registry_add(r, NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_registry_id(r, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_registry_id(NULL, "a"), HIVE_EINVAL);
    cr_expect_null(hive_registry_name(NULL, 64));
    cr_expect_eq(hive_registry_count(NULL), 0);
    cr_expect_eq(hive_registry_at(NULL, 0, NULL, NULL), HIVE_EINVAL);
    hive_registry_destroy(r);
}
