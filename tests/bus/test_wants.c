/* Voidable events: hive_bus_wants says whether anyone listens; publishing
 * to nobody returns at once. */
#include "helpers.h"

#include <pthread.h>
#include <stdatomic.h>

Test(wants, follows_subscriptions, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_event_id id = hive_bus_intern(bus, "w:x");
    hive_event_id other = hive_bus_intern(bus, "w:y");
    cr_expect_not(hive_bus_wants(bus, id));
    int sub = hive_bus_subscribe_id(bus, id, on_count, &n, NULL);
    cr_expect(hive_bus_wants(bus, id));
    cr_expect_not(hive_bus_wants(bus, other));
    hive_bus_unsubscribe(bus, sub);
    cr_expect_not(hive_bus_wants(bus, id));
    int pat = hive_bus_subscribe(bus, "w:*", on_count, &n, NULL);
    cr_expect(hive_bus_wants(bus, id));
    cr_expect(hive_bus_wants(bus, other));
    hive_bus_unsubscribe(bus, pat);
    cr_expect_not(hive_bus_wants(bus, id));
    const char *events[] = { "w:y" };
    hive_trigger_action acts[] = { { on_count, &n } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "t", .events = events, .nevents = 1,
        .actions = acts, .nactions = 1 });
    cr_expect(hive_bus_wants(bus, other));
    cr_expect_not(hive_bus_wants(bus, id));
    hive_bus_trigger_remove(bus, "t");
    cr_expect_not(hive_bus_wants(bus, other));
    int obs = hive_bus_observe(bus, on_count, &n);
    cr_expect(hive_bus_wants(bus, id));
    cr_expect(hive_bus_wants(bus, hive_bus_intern(bus, "w:new")));
    hive_bus_unsubscribe(bus, obs);
    cr_expect_not(hive_bus_wants(bus, id));
    cr_expect_not(hive_bus_wants(bus, 0));
    cr_expect_not(hive_bus_wants(bus, 9999));
    cr_expect_not(hive_bus_wants(NULL, id));
    hive_bus_destroy(bus);
}

Test(wants, publish_to_nobody_returns_zero_and_counts, .timeout = 5)
{
    hive_bus *bus = small_bus();
    hive_event_id id = hive_bus_intern(bus, "w:x");
    /* Even nonsense fields are never looked at when nobody listens. */
    cr_expect_eq(hive_bus_publish(bus, id, NULL, 3), 0);
    cr_expect_eq(hive_bus_publish(bus, id, NULL, 0), 0);
    cr_expect_eq(hive_bus_count(bus, id), 2);
    hive_bus_destroy(bus);
}

typedef struct watcher {
    hive_bus *bus;
    hive_event_id id;
    atomic_int stop;
    atomic_long rounds;
    long trues, falses;
} watcher;

static void *watch(void *arg)
{
    watcher *w = arg;
    while (!atomic_load(&w->stop)) {
        if (hive_bus_wants(w->bus, w->id)) w->trues++;
        else w->falses++;
        hive_bus_counters c;
        hive_bus_stats(w->bus, &c);
        (void)hive_bus_count(w->bus, w->id);
        atomic_fetch_add(&w->rounds, 1);
    }
    return NULL;
}

Test(threads, wants_and_stats_from_another_thread, .timeout = 30)
{
    hive_bus *bus = small_bus();
    watcher w = { .bus = bus, .id = hive_bus_intern(bus, "w:x") };
    pthread_t th;
    pthread_create(&th, NULL, watch, &w);
    int n = 0;
    /* Keep changing the answer until the watcher has looked many times. */
    int i = 0;
    for (; i < 2000 || atomic_load(&w.rounds) < 100; i++) {
        int s = hive_bus_subscribe(bus, i % 2 ? "w:x" : "w:*", on_count, &n, NULL);
        hive_bus_publish(bus, w.id, NULL, 0);
        hive_bus_unsubscribe(bus, s);
    }
    atomic_store(&w.stop, 1);
    pthread_join(th, NULL);
    cr_expect_eq(n, i);
    cr_expect_geq(w.trues + w.falses, 100);
    cr_expect_not(hive_bus_wants(bus, w.id));
    hive_bus_destroy(bus);
}
