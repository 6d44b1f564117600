/* Priorities: higher first; ties in subscription order, across exact and
 * pattern subscriptions alike. */
#include "helpers.h"

Test(priority, higher_first_ties_in_order, .timeout = 5)
{
    hive_bus *bus = small_bus();
    tlog log = { 0 };
    tag a = { &log, "a" }, b = { &log, "b" }, c = { &log, "c" }, d = { &log, "d" }, e = { &log, "e" };
    hive_bus_subscribe(bus, "p:x", on_tag, &a, &(hive_sub_opts){ .priority = 0 });
    hive_bus_subscribe(bus, "p:x", on_tag, &b, &(hive_sub_opts){ .priority = 10 });
    hive_bus_subscribe(bus, "p:x", on_tag, &c, &(hive_sub_opts){ .priority = -5 });
    hive_bus_subscribe(bus, "p:x", on_tag, &d, &(hive_sub_opts){ .priority = 10 });
    hive_bus_subscribe(bus, "p:x", on_tag, &e, NULL);
    cr_assert_eq(hive_bus_publish_name(bus, "p:x", NULL, 0), 5);
    cr_expect_str_eq(log.buf, "b d a e c ");
    hive_bus_destroy(bus);
}

Test(priority, exact_and_pattern_interleave, .timeout = 5)
{
    hive_bus *bus = small_bus();
    tlog log = { 0 };
    tag e1 = { &log, "e1" }, p1 = { &log, "p1" }, e2 = { &log, "e2" }, p2 = { &log, "p2" },
        hi = { &log, "hi" };
    hive_bus_subscribe(bus, "net:client.recv", on_tag, &e1, NULL);
    hive_bus_subscribe(bus, "net:*.recv", on_tag, &p1, NULL);
    hive_bus_subscribe(bus, "net:client.recv", on_tag, &e2, NULL);
    hive_bus_subscribe(bus, "net:**", on_tag, &p2, NULL);
    hive_bus_subscribe(bus, "**", on_tag, &hi, &(hive_sub_opts){ .priority = 1 });
    hive_bus_publish_name(bus, "net:client.recv", NULL, 0);
    cr_expect_str_eq(log.buf, "hi e1 p1 e2 p2 ");
    hive_bus_destroy(bus);
}

Test(priority, order_holds_for_names_interned_later, .timeout = 5)
{
    hive_bus *bus = small_bus();
    tlog log = { 0 };
    tag p1 = { &log, "p1" }, p2 = { &log, "p2" }, p3 = { &log, "p3" }, ex = { &log, "ex" };
    hive_bus_subscribe(bus, "a.**", on_tag, &p1, NULL);
    hive_bus_subscribe(bus, "a.*", on_tag, &p2, &(hive_sub_opts){ .priority = 3 });
    hive_bus_subscribe(bus, "**", on_tag, &p3, NULL);
    /* The name appears only now; the exact sub is newest. */
    hive_bus_subscribe(bus, "a.b", on_tag, &ex, NULL);
    hive_bus_publish_name(bus, "a.b", NULL, 0);
    cr_expect_str_eq(log.buf, "p2 p1 p3 ex ");
    hive_bus_destroy(bus);
}
