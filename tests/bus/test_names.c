/* Names: `ns:category.sub.name` interned to small ids; lookup, name, syntax. */
#include "helpers.h"

Test(names, intern_gives_stable_positive_ids, .timeout = 5)
{
    hive_bus *bus = hive_bus_create(NULL); /* defaults */
    cr_assert_not_null(bus);
    hive_event_id a = hive_bus_intern(bus, "net:server.start");
    hive_event_id b = hive_bus_intern(bus, "net:server.stop");
    cr_assert_gt(a, 0);
    cr_assert_gt(b, 0);
    cr_assert_neq(a, b);
    cr_assert_eq(hive_bus_intern(bus, "net:server.start"), a);
    cr_assert_eq(hive_bus_lookup(bus, "net:server.stop"), b);
    cr_assert_eq(hive_bus_lookup(bus, "net:server.nope"), HIVE_ENOENT);
    cr_assert_str_eq(hive_bus_name(bus, a), "net:server.start");
    cr_assert_str_eq(hive_bus_name(bus, b), "net:server.stop");
    cr_assert_null(hive_bus_name(bus, 0));
    cr_assert_null(hive_bus_name(bus, -1));
    cr_assert_null(hive_bus_name(bus, b + 1));
    hive_bus_destroy(bus);
}

Test(names, name_pointers_survive_growth, .timeout = 10)
{
    hive_bus *bus = small_bus();
    hive_event_id first = hive_bus_intern(bus, "grow:n0");
    const char *p = hive_bus_name(bus, first);
    char name[64];
    for (int i = 1; i < 5000; i++) {
        snprintf(name, sizeof name, "grow:n%d", i);
        cr_assert_gt(hive_bus_intern(bus, name), 0);
    }
    /* Same pointer, same text: names never move. */
    cr_assert_eq(hive_bus_name(bus, first), p);
    cr_assert_str_eq(p, "grow:n0");
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "grow:n%d", i);
        hive_event_id id = hive_bus_lookup(bus, name);
        cr_assert_gt(id, 0, "%s", name);
        cr_assert_str_eq(hive_bus_name(bus, id), name);
    }
    hive_bus_counters c;
    cr_assert_eq(hive_bus_stats(bus, &c), HIVE_OK);
    cr_assert_eq(c.names, 5000);
    hive_bus_destroy(bus);
}

Test(names, syntax, .timeout = 5)
{
    hive_bus *bus = small_bus();
    const char *good[] = {
        "a", "net:server.start", "net:recv.game:chat", "A-b_c/d+e@f#g$h.9",
        "x:y:z", "a.b.c.d.e.f",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        cr_expect_gt(hive_bus_intern(bus, good[i]), 0, "%s", good[i]);
    const char *bad[] = {
        "", ".", ":", "a.", "a:", ".a", ":a", "a..b", "a:.b", "a b", "a*", "*",
        "net:server.*", "caf\xc3\xa9", "tab\tname", "a,b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(hive_bus_intern(bus, bad[i]), HIVE_ENAME, "'%s'", bad[i]);

    char longest[HIVE_NAME_MAX], too_long[HIVE_NAME_MAX + 1];
    memset(longest, 'a', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    cr_expect_gt(hive_bus_intern(bus, longest), 0);
    cr_expect_eq(hive_bus_intern(bus, too_long), HIVE_ENAME);
    cr_expect_eq(hive_bus_lookup(bus, too_long), HIVE_ENOENT);
    hive_bus_destroy(bus);
}

Test(names, publish_by_name_interns, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    cr_assert_gt(hive_bus_subscribe(bus, "game:score", on_count, &n, NULL), 0);
    cr_assert_eq(hive_bus_publish_name(bus, "game:score", NULL, 0), 1);
    cr_assert_eq(n, 1);
    /* A new name is interned by publish_name; nobody listens yet. */
    cr_assert_eq(hive_bus_lookup(bus, "game:other"), HIVE_ENOENT);
    cr_assert_eq(hive_bus_publish_name(bus, "game:other", NULL, 0), 0);
    cr_assert_gt(hive_bus_lookup(bus, "game:other"), 0);
    cr_assert_eq(hive_bus_publish_name(bus, "bad..name", NULL, 0), HIVE_ENAME);
    /* By id and by name reach the same handlers. */
    cr_assert_eq(hive_bus_publish(bus, hive_bus_lookup(bus, "game:score"), NULL, 0), 1);
    cr_assert_eq(n, 2);
    hive_bus_destroy(bus);
}
