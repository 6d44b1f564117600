/* Pattern subscriptions: `*` is one segment, `**` one or more, separators
 * match literally, a partial-segment star is malformed. */
#include "helpers.h"

typedef struct pcase {
    const char *pattern, *name;
    bool match;
} pcase;

static const pcase cases[] = {
    { "net:server.connection.*", "net:server.connection.recv", true },
    { "net:server.connection.*", "net:server.start", false },
    { "net:server.connection.*", "net:server.connection.recv.more", false },
    { "net:**", "net:server.start", true },
    { "net:**", "net:x", true },
    { "net:**", "net", false },
    { "net:**", "game:x", false },
    { "**", "a", true },
    { "**", "net:recv.game:chat", true },
    { "*", "a", true },
    { "*", "a.b", false },
    { "*:server.*", "net:server.start", true },
    { "*:server.*", "net.server.start", false },  /* ':' is not '.' */
    { "net:*.start", "net:client.start", true },
    { "net:*.start", "net.client.start", false },
    { "a.**.z", "a.b.z", true },
    { "a.**.z", "a.b:c.d.z", true },
    { "a.**.z", "a.z", false },                    /* ** needs a segment */
    { "a.**", "a:b", false },
    { "**.recv", "net:client.recv", true },
    { "**.recv", "recv", false },
    { "net:recv.*:*", "net:recv.game:chat", true },
    { "**:chat", "net:recv.game:chat", true },
    { "*.*", "a.b", true },
    { "*.*", "a:b", false },
    { "**.**", "a.b", true },
    { "**.**", "a", false },
    { "**.**", "a.b.c", true },
    { "**.b.**", "a.b.c", true },
    { "**.b.**", "b.c", false },
};

Test(patterns, wildcard_rules, .timeout = 10)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const pcase *c = &cases[i];
        hive_bus *bus = small_bus();
        int n = 0;
        cr_assert_gt(hive_bus_subscribe(bus, c->pattern, on_count, &n, NULL), 0, "%s", c->pattern);
        hive_event_id id = hive_bus_intern(bus, c->name);
        cr_assert_gt(id, 0, "%s", c->name);
        cr_expect_eq(hive_bus_wants(bus, id), c->match, "%s vs %s", c->pattern, c->name);
        hive_bus_publish(bus, id, NULL, 0);
        cr_expect_eq(n, c->match ? 1 : 0, "%s vs %s", c->pattern, c->name);
        hive_bus_destroy(bus);
    }
}

Test(patterns, malformed_patterns, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    const char *bad[] = { "conn*", "*conn", "net:server.conn*", "a.c*d", "***", "a..*",
                          "*.", ".*", "a.*x", "a b.*", "*:", "**." };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(hive_bus_subscribe(bus, bad[i], on_count, &n, NULL), HIVE_EPATTERN,
                     "'%s'", bad[i]);
    /* Without a star it is an exact name: malformed names are ENAME. */
    cr_expect_eq(hive_bus_subscribe(bus, "", on_count, &n, NULL), HIVE_ENAME);
    cr_expect_eq(hive_bus_subscribe(bus, "a..b", on_count, &n, NULL), HIVE_ENAME);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.subscriptions, 0);
    hive_bus_destroy(bus);
}

Test(patterns, resolved_for_old_and_new_names, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_event_id before = hive_bus_intern(bus, "net:server.connection.accept");
    cr_assert_gt(hive_bus_subscribe(bus, "net:server.connection.*", on_count, &n, NULL), 0);
    /* Names interned after the subscription are matched when interned. */
    hive_event_id after = hive_bus_intern(bus, "net:server.connection.close");
    hive_event_id other = hive_bus_intern(bus, "net:server.start");
    cr_expect(hive_bus_wants(bus, before));
    cr_expect(hive_bus_wants(bus, after));
    cr_expect_not(hive_bus_wants(bus, other));
    cr_expect_eq(hive_bus_publish(bus, before, NULL, 0), 1);
    cr_expect_eq(hive_bus_publish(bus, after, NULL, 0), 1);
    cr_expect_eq(hive_bus_publish(bus, other, NULL, 0), 0);
    /* Publishing by a brand-new name resolves it too. */
    cr_expect_eq(hive_bus_publish_name(bus, "net:server.connection.recv", NULL, 0), 1);
    cr_expect_eq(n, 3);
    hive_bus_destroy(bus);
}

Test(patterns, exact_subscription_without_wildcards, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    /* A pattern without wildcards subscribes exactly (and interns). */
    cr_assert_gt(hive_bus_subscribe(bus, "game:chat", on_count, &n, NULL), 0);
    cr_assert_gt(hive_bus_lookup(bus, "game:chat"), 0);
    cr_expect_eq(hive_bus_publish_name(bus, "game:chat.more", NULL, 0), 0);
    cr_expect_eq(hive_bus_publish_name(bus, "game:chat", NULL, 0), 1);
    cr_expect_eq(n, 1);
    hive_bus_destroy(bus);
}
