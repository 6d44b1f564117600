/* `once`: the handler runs at most one time, then its subscription is gone. */
#include "helpers.h"

Test(once, runs_once_then_is_removed, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0, other = 0;
    int sub = hive_bus_subscribe(bus, "o:x", on_count, &n, &(hive_sub_opts){ .once = true });
    hive_bus_subscribe(bus, "o:x", on_count, &other, NULL);
    cr_assert_gt(sub, 0);
    cr_expect_eq(hive_bus_publish_name(bus, "o:x", NULL, 0), 2);
    cr_expect_eq(hive_bus_publish_name(bus, "o:x", NULL, 0), 1);
    cr_expect_eq(n, 1);
    cr_expect_eq(other, 2);
    cr_expect_eq(hive_bus_unsubscribe(bus, sub), HIVE_ENOENT);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.subscriptions, 1);
    hive_bus_destroy(bus);
}

static bool cid_is_7(const hive_event *ev, void *user)
{
    (void)user;
    return hive_event_int(ev, "cid", 0) == 7;
}

Test(once, rejected_by_condition_does_not_count, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_bus_subscribe(bus, "o:x", on_count, &n, &(hive_sub_opts){ .once = true, .cond = cid_is_7 });
    hive_field f3[] = { HIVE_INT("cid", 3) }, f7[] = { HIVE_INT("cid", 7) };
    cr_expect_eq(hive_bus_publish_name(bus, "o:x", f3, 1), 0);
    cr_expect_eq(hive_bus_publish_name(bus, "o:x", f3, 1), 0);
    cr_expect_eq(hive_bus_publish_name(bus, "o:x", f7, 1), 1);
    cr_expect_eq(hive_bus_publish_name(bus, "o:x", f7, 1), 0);
    cr_expect_eq(n, 1);
    hive_bus_destroy(bus);
}

static void republish(const hive_event *ev, void *user)
{
    (*(int *)user)++;
    hive_bus_publish(ev->bus, ev->id, NULL, 0); /* nested, same event */
}

Test(once, nested_publish_does_not_rerun_it, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_bus_subscribe(bus, "o:x", republish, &n, &(hive_sub_opts){ .once = true });
    hive_bus_publish_name(bus, "o:x", NULL, 0);
    cr_expect_eq(n, 1);
    cr_expect_not(hive_bus_wants(bus, hive_bus_lookup(bus, "o:x")));
    hive_bus_destroy(bus);
}

Test(once, pattern_subscription, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_bus_subscribe(bus, "o:*", on_count, &n, &(hive_sub_opts){ .once = true });
    hive_bus_publish_name(bus, "o:a", NULL, 0);
    hive_bus_publish_name(bus, "o:b", NULL, 0);
    hive_bus_publish_name(bus, "o:a", NULL, 0);
    cr_expect_eq(n, 1);
    cr_expect_not(hive_bus_wants(bus, hive_bus_lookup(bus, "o:a")));
    cr_expect_not(hive_bus_wants(bus, hive_bus_lookup(bus, "o:b")));
    /* and it is not attached to names interned later */
    cr_expect_eq(hive_bus_publish_name(bus, "o:c", NULL, 0), 0);
    hive_bus_destroy(bus);
}
