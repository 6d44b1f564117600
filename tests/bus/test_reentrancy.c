/* Re-entrancy: subscribe, unsubscribe, publish, trigger changes from inside
 * handlers, with the rules documented in bus.h. */
#include "helpers.h"

typedef struct ctx {
    tlog log;
    tag late;
    int late_sub;
    int victim_sub;
    int self_sub;
    int count;
} ctx;

static void subscribe_late(const hive_event *ev, void *user)
{
    ctx *c = user;
    tlog_add(&c->log, "first");
    c->late.log = &c->log;
    c->late.name = "late";
    if (!c->late_sub) c->late_sub = hive_bus_subscribe_id(ev->bus, ev->id, on_tag, &c->late, NULL);
}

Test(reentrancy, added_in_handler_skips_event_in_flight, .timeout = 5)
{
    hive_bus *bus = small_bus();
    ctx c = { 0 };
    hive_bus_subscribe(bus, "r:x", subscribe_late, &c, &(hive_sub_opts){ .priority = 1 });
    cr_expect_eq(hive_bus_publish_name(bus, "r:x", NULL, 0), 1);
    cr_expect_gt(c.late_sub, 0);
    cr_expect_str_eq(c.log.buf, "first ");
    cr_expect_eq(hive_bus_publish_name(bus, "r:x", NULL, 0), 2);
    cr_expect_str_eq(c.log.buf, "first first late ");
    hive_bus_destroy(bus);
}

static void subscribe_then_nest(const hive_event *ev, void *user)
{
    ctx *c = user;
    if (c->count++) return;
    subscribe_late(ev, user);
    hive_bus_publish(ev->bus, ev->id, NULL, 0); /* the new sub runs here */
    tlog_add(&c->log, "back");
}

Test(reentrancy, added_in_handler_runs_for_nested_publish, .timeout = 5)
{
    hive_bus *bus = small_bus();
    ctx c = { 0 };
    hive_bus_subscribe(bus, "r:x", subscribe_then_nest, &c, &(hive_sub_opts){ .priority = 1 });
    hive_bus_publish_name(bus, "r:x", NULL, 0);
    cr_expect_str_eq(c.log.buf, "first late back ");
    hive_bus_destroy(bus);
}

static void kill_victim(const hive_event *ev, void *user)
{
    ctx *c = user;
    tlog_add(&c->log, "killer");
    cr_expect_eq(hive_bus_unsubscribe(ev->bus, c->victim_sub), HIVE_OK);
    cr_expect_eq(hive_bus_unsubscribe(ev->bus, c->victim_sub), HIVE_ENOENT);
}

Test(reentrancy, removed_later_in_same_dispatch_never_runs, .timeout = 5)
{
    hive_bus *bus = small_bus();
    ctx c = { 0 };
    tag v = { &c.log, "victim" }, after = { &c.log, "after" };
    hive_bus_subscribe(bus, "r:x", kill_victim, &c, &(hive_sub_opts){ .priority = 2 });
    c.victim_sub = hive_bus_subscribe(bus, "r:*", on_tag, &v, &(hive_sub_opts){ .priority = 1 });
    hive_bus_subscribe(bus, "r:x", on_tag, &after, NULL);
    cr_expect_eq(hive_bus_publish_name(bus, "r:x", NULL, 0), 2);
    cr_expect_str_eq(c.log.buf, "killer after ");
    hive_bus_destroy(bus);
}

static void unsubscribe_self(const hive_event *ev, void *user)
{
    ctx *c = user;
    c->count++;
    cr_expect_eq(hive_bus_unsubscribe(ev->bus, c->self_sub), HIVE_OK);
}

Test(reentrancy, unsubscribe_self, .timeout = 5)
{
    hive_bus *bus = small_bus();
    ctx c = { 0 };
    c.self_sub = hive_bus_subscribe(bus, "r:x", unsubscribe_self, &c, NULL);
    hive_bus_publish_name(bus, "r:x", NULL, 0);
    hive_bus_publish_name(bus, "r:x", NULL, 0);
    cr_expect_eq(c.count, 1);
    hive_bus_destroy(bus);
}

static void publish_b(const hive_event *ev, void *user)
{
    ctx *c = user;
    tlog_add(&c->log, "a1");
    hive_bus_publish_name(ev->bus, "r:b", NULL, 0);
    tlog_add(&c->log, "a1-end");
}

Test(reentrancy, nested_publish_is_depth_first, .timeout = 5)
{
    hive_bus *bus = small_bus();
    ctx c = { 0 };
    tag a2 = { &c.log, "a2" }, b1 = { &c.log, "b1" };
    hive_bus_subscribe(bus, "r:a", publish_b, &c, &(hive_sub_opts){ .priority = 1 });
    hive_bus_subscribe(bus, "r:a", on_tag, &a2, NULL);
    hive_bus_subscribe(bus, "r:b", on_tag, &b1, NULL);
    cr_expect_eq(hive_bus_publish_name(bus, "r:a", NULL, 0), 2);
    cr_expect_str_eq(c.log.buf, "a1 b1 a1-end a2 ");
    hive_bus_destroy(bus);
}

/* Churn: a handler that unsubscribes everything and subscribes many new
 * handlers (lists reallocated while being walked). ASan checks memory. */
typedef struct churn {
    int subs[64];
    int nsubs;
    int runs;
} churn;

static void churner(const hive_event *ev, void *user)
{
    churn *c = user;
    c->runs++;
    for (int i = 0; i < c->nsubs; i++) hive_bus_unsubscribe(ev->bus, c->subs[i]);
    c->nsubs = 0;
    if (c->runs > 3) return;
    for (int i = 0; i < 20; i++)
        c->subs[c->nsubs++] = hive_bus_subscribe(ev->bus, i % 2 ? "r:*" : "r:x", churner, c,
                                                 &(hive_sub_opts){ .priority = i });
    hive_bus_publish(ev->bus, ev->id, NULL, 0);
}

Test(reentrancy, churn_inside_handlers, .timeout = 5)
{
    hive_bus *bus = small_bus();
    churn c = { 0 };
    c.subs[c.nsubs++] = hive_bus_subscribe(bus, "r:x", churner, &c, NULL);
    hive_bus_publish_name(bus, "r:x", NULL, 0);
    cr_expect_eq(c.runs, 4);
    hive_bus_counters s;
    hive_bus_stats(bus, &s);
    cr_expect_eq(s.subscriptions, 0);
    cr_expect_not(hive_bus_wants(bus, hive_bus_lookup(bus, "r:x")));
    hive_bus_destroy(bus);
}

static void add_trigger_and_observer(const hive_event *ev, void *user)
{
    int *n = user;
    static const char *events[] = { "r:x" };
    static hive_trigger_action acts[1];
    acts[0] = (hive_trigger_action){ on_count, n };
    if (hive_bus_trigger_find(ev->bus, "inner", NULL) == HIVE_OK) {
        hive_bus_trigger_remove(ev->bus, "inner");
        return;
    }
    cr_expect_eq(hive_bus_trigger_add(ev->bus, &(hive_trigger_desc){ .name = "inner",
        .events = events, .nevents = 1, .actions = acts, .nactions = 1 }), HIVE_OK);
    cr_expect_gt(hive_bus_observe(ev->bus, on_count, n), 0);
}

Test(reentrancy, triggers_and_observers_from_handlers, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_bus_subscribe(bus, "r:x", add_trigger_and_observer, &n, &(hive_sub_opts){ .priority = 9 });
    cr_expect_eq(hive_bus_publish_name(bus, "r:x", NULL, 0), 1); /* adds; none run now */
    cr_expect_eq(n, 0);
    /* The handler removes the trigger before the trigger's turn: it does not
     * run. The observer does. */
    cr_expect_eq(hive_bus_publish_name(bus, "r:x", NULL, 0), 2);
    cr_expect_eq(n, 1);
    hive_bus_destroy(bus);
}

static void destroy_inside(const hive_event *ev, void *user)
{
    (void)user;
    hive_bus_destroy(ev->bus); /* refused: the bus is in use */
}

Test(reentrancy, destroy_inside_handler_is_ignored, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    hive_bus_subscribe(bus, "r:x", destroy_inside, NULL, NULL);
    hive_bus_subscribe(bus, "r:x", on_count, &n, NULL);
    cr_expect_eq(hive_bus_publish_name(bus, "r:x", NULL, 0), 2);
    cr_expect_eq(n, 1);
    hive_bus_destroy(bus);
}

static void dispatch_inside(const hive_event *ev, void *user)
{
    *(int *)user = hive_bus_dispatch(ev->bus, 0);
}

Test(reentrancy, dispatch_inside_handlers, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int rc = 123, n = 0;
    hive_event_id q = hive_bus_intern(bus, "r:queued");
    hive_bus_subscribe(bus, "r:queued", dispatch_inside, &rc, NULL);
    hive_bus_subscribe(bus, "r:other", on_count, &n, NULL);
    hive_bus_post(bus, q, NULL, 0);
    cr_expect_eq(hive_bus_dispatch(bus, 0), 1);
    cr_expect_eq(rc, HIVE_ESTATE); /* not from a dispatched event */
    /* From a published event's handler it is fine. */
    hive_bus_post(bus, hive_bus_lookup(bus, "r:other"), NULL, 0);
    hive_bus_publish(bus, q, NULL, 0);
    cr_expect_eq(rc, 1);
    cr_expect_eq(n, 1);
    hive_bus_destroy(bus);
}
