/* Observability: hive_bus_stats counters and hive_bus_count per name. */
#include "helpers.h"

Test(stats, counters_follow_activity, .timeout = 5)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 4 });
    int n = 0;
    hive_bus_counters c;
    cr_assert_eq(hive_bus_stats(bus, &c), HIVE_OK);
    cr_expect_eq(c.published + c.posted + c.dispatched + c.dropped + c.delivered, 0);
    cr_expect_eq(c.names + c.subscriptions + c.triggers + c.queued, 0);

    hive_event_id a = hive_bus_intern(bus, "s:a");
    hive_event_id b = hive_bus_intern(bus, "s:b");
    hive_bus_subscribe_id(bus, a, on_count, &n, NULL);
    hive_bus_subscribe(bus, "s:*", on_count, &n, NULL);
    const char *events[] = { "s:b" };
    hive_trigger_action acts[] = { { on_count, &n }, { on_count, &n } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "t", .events = events, .nevents = 1,
        .actions = acts, .nactions = 2 });

    hive_bus_publish(bus, a, NULL, 0);  /* 2 handlers */
    hive_bus_publish(bus, a, NULL, 0);  /* 2 */
    hive_bus_publish(bus, b, NULL, 0);  /* pattern + 2 actions = 3 */
    for (int i = 0; i < 6; i++) hive_bus_post(bus, b, NULL, 0); /* 4 fit, 2 dropped */
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.published, 3);
    cr_expect_eq(c.posted, 4);
    cr_expect_eq(c.dropped, 2);
    cr_expect_eq(c.queued, 4);
    cr_expect_eq(c.dispatched, 0);
    cr_expect_eq(c.delivered, 7);
    cr_expect_eq(c.names, 2);
    cr_expect_eq(c.subscriptions, 2);
    cr_expect_eq(c.triggers, 1);

    cr_expect_eq(hive_bus_dispatch(bus, 3), 3);
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.dispatched, 3);
    cr_expect_eq(c.queued, 1);
    cr_expect_eq(c.delivered, 7 + 3 * 3);
    cr_expect_eq(n, 16);

    cr_expect_eq(hive_bus_count(bus, a), 2);
    cr_expect_eq(hive_bus_count(bus, b), 1 + 3); /* published + dispatched */
    cr_expect_eq(hive_bus_count(bus, 0), 0);
    cr_expect_eq(hive_bus_count(bus, 99), 0);
    cr_expect_eq(hive_bus_count(NULL, a), 0);
    cr_expect_eq(hive_bus_stats(NULL, &c), HIVE_EINVAL);
    cr_expect_eq(hive_bus_stats(bus, NULL), HIVE_EINVAL);
    hive_bus_destroy(bus);
}

Test(stats, publish_to_unknown_id_is_not_counted, .timeout = 5)
{
    hive_bus *bus = small_bus();
    cr_expect_eq(hive_bus_publish(bus, 5, NULL, 0), HIVE_EINVAL);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.published, 0);
    hive_bus_destroy(bus);
}
