/* Misuse returns the documented code and never crashes. */
#include "helpers.h"

Test(misuse, null_bus_everywhere, .timeout = 5)
{
    int n = 0;
    hive_bus_destroy(NULL);
    cr_expect_eq(hive_bus_intern(NULL, "a"), HIVE_EINVAL);
    cr_expect_eq(hive_bus_lookup(NULL, "a"), HIVE_EINVAL);
    cr_expect_null(hive_bus_name(NULL, 1));
    cr_expect_eq(hive_bus_subscribe(NULL, "a", on_count, &n, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_subscribe_id(NULL, 1, on_count, &n, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_unsubscribe(NULL, 1), HIVE_EINVAL);
    cr_expect_eq(hive_bus_observe(NULL, on_count, &n), HIVE_EINVAL);
    cr_expect_not(hive_bus_wants(NULL, 1));
    cr_expect_eq(hive_bus_publish(NULL, 1, NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_publish_name(NULL, "a", NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(NULL, 1, NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_dispatch(NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_dispatch_for(NULL, 1), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_add(NULL, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_remove(NULL, "t"), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_find(NULL, "t", NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_stats(NULL, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_count(NULL, 1), 0);
}

Test(misuse, null_names_and_handlers, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_event_id id = hive_bus_intern(bus, "m:x");
    cr_expect_eq(hive_bus_intern(bus, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_lookup(bus, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_subscribe(bus, NULL, on_count, &n, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_subscribe(bus, "m:x", NULL, &n, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_subscribe_id(bus, id, NULL, &n, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_observe(bus, NULL, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_publish_name(bus, NULL, NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_remove(bus, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_find(bus, NULL, NULL), HIVE_EINVAL);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.subscriptions, 0);
    hive_bus_destroy(bus);
}

Test(misuse, malformed_names_and_patterns, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    cr_expect_eq(hive_bus_intern(bus, "a..b"), HIVE_ENAME);
    cr_expect_eq(hive_bus_publish_name(bus, ":x", NULL, 0), HIVE_ENAME);
    cr_expect_eq(hive_bus_subscribe(bus, "a.", on_count, &n, NULL), HIVE_ENAME);
    cr_expect_eq(hive_bus_subscribe(bus, "a.b*", on_count, &n, NULL), HIVE_EPATTERN);
    cr_expect_eq(hive_bus_subscribe(bus, "a.***", on_count, &n, NULL), HIVE_EPATTERN);
    hive_bus_destroy(bus);
}

Test(misuse, bad_ids, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_event_id id = hive_bus_intern(bus, "m:x");
    hive_event_id bad[] = { 0, -1, id + 1, 1 << 30, HIVE_ENOENT };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_expect_eq(hive_bus_publish(bus, bad[i], NULL, 0), HIVE_EINVAL);
        cr_expect_eq(hive_bus_post(bus, bad[i], NULL, 0), HIVE_EINVAL);
        cr_expect_eq(hive_bus_subscribe_id(bus, bad[i], on_count, &n, NULL), HIVE_EINVAL);
        cr_expect_not(hive_bus_wants(bus, bad[i]));
        cr_expect_null(hive_bus_name(bus, bad[i]));
    }
    hive_bus_destroy(bus);
}

Test(misuse, unknown_and_double_unsubscribe, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    int sub = hive_bus_subscribe(bus, "m:x", on_count, &n, NULL);
    cr_expect_eq(hive_bus_unsubscribe(bus, 0), HIVE_ENOENT);
    cr_expect_eq(hive_bus_unsubscribe(bus, -5), HIVE_ENOENT);
    cr_expect_eq(hive_bus_unsubscribe(bus, sub + 100), HIVE_ENOENT);
    cr_expect_eq(hive_bus_unsubscribe(bus, sub), HIVE_OK);
    cr_expect_eq(hive_bus_unsubscribe(bus, sub), HIVE_ENOENT);
    cr_expect_eq(hive_bus_trigger_remove(bus, "never"), HIVE_ENOENT);
    cr_expect_eq(hive_bus_trigger_find(bus, "never", NULL), HIVE_ENOENT);
    hive_bus_destroy(bus);
}

Test(misuse, publish_null_fields_with_count, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_bus_subscribe(bus, "m:x", on_count, &n, NULL);
    cr_expect_eq(hive_bus_publish_name(bus, "m:x", NULL, 2), HIVE_EINVAL);
    cr_expect_eq(n, 0);
    hive_bus_destroy(bus);
}

Test(misuse, invalid_config, .timeout = 5)
{
    cr_expect_null(hive_bus_create(&(hive_bus_config){ .queue_capacity = (size_t)1 << 40 }));
    cr_expect_null(hive_bus_create(&(hive_bus_config){ .inline_bytes = (size_t)1 << 30 }));
    cr_expect_null(hive_bus_create(&(hive_bus_config){ .overflow = (hive_overflow)7 }));
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 1 }); /* becomes 2 */
    cr_assert_not_null(bus);
    hive_bus_destroy(bus);
}
