/* Observers: catch-all handlers that see every delivered event, after its
 * subscribers. */
#include "helpers.h"

static void note_name(const hive_event *ev, void *user)
{
    tlog_add(user, ev->name);
}

Test(observe, sees_every_event_after_subscribers, .timeout = 5)
{
    hive_bus *bus = small_bus();
    tlog log = { 0 };
    tag low = { &log, "low" };
    int obs = hive_bus_observe(bus, note_name, &log);
    cr_assert_gt(obs, 0);
    /* Even a very low priority subscriber runs before observers. */
    hive_bus_subscribe(bus, "o:a", on_tag, &low, &(hive_sub_opts){ .priority = -1000 });
    cr_expect_eq(hive_bus_publish_name(bus, "o:a", NULL, 0), 2);
    cr_expect_eq(hive_bus_publish_name(bus, "o:b", NULL, 0), 1); /* interned now */
    hive_bus_post(bus, hive_bus_lookup(bus, "o:b"), NULL, 0);
    cr_expect_eq(hive_bus_dispatch(bus, 0), 1);
    cr_expect_str_eq(log.buf, "low o:a o:b o:b ");
    cr_expect_eq(hive_bus_unsubscribe(bus, obs), HIVE_OK);
    cr_expect_eq(hive_bus_publish_name(bus, "o:b", NULL, 0), 0);
    cr_expect_eq(hive_bus_unsubscribe(bus, obs), HIVE_ENOENT);
    hive_bus_destroy(bus);
}

Test(observe, observers_in_their_own_order, .timeout = 5)
{
    hive_bus *bus = small_bus();
    tlog log = { 0 };
    tag o1 = { &log, "o1" }, o2 = { &log, "o2" }, s = { &log, "s" };
    hive_bus_observe(bus, on_tag, &o1);
    hive_bus_observe(bus, on_tag, &o2);
    hive_bus_subscribe(bus, "**", on_tag, &s, NULL);
    hive_bus_publish_name(bus, "x", NULL, 0);
    cr_expect_str_eq(log.buf, "s o1 o2 ");
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.subscriptions, 3);
    hive_bus_destroy(bus);
}
