/* Conditions: a predicate with its own user pointer, checked just before
 * the handler would run. */
#include "helpers.h"

typedef struct seen {
    int calls;
    void *user;
    int64_t cid;
} seen;

static bool cond_cid(const hive_event *ev, void *user)
{
    seen *s = user;
    s->calls++;
    s->user = user;
    s->cid = hive_event_int(ev, "cid", -1);
    return s->cid == 7;
}

Test(conditions, predicate_gates_the_handler, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    seen s = { 0 };
    hive_bus_subscribe(bus, "c:x", on_count, &n, &(hive_sub_opts){ .cond = cond_cid, .cond_user = &s });
    hive_field f3[] = { HIVE_INT("cid", 3) }, f7[] = { HIVE_INT("cid", 7) };
    cr_expect_eq(hive_bus_publish_name(bus, "c:x", f3, 1), 0);
    cr_expect_eq(s.cid, 3);
    cr_expect_eq(hive_bus_publish_name(bus, "c:x", f7, 1), 1);
    cr_expect_eq(s.cid, 7);
    cr_expect_eq(s.calls, 2);
    cr_expect_eq(s.user, &s);
    cr_expect_eq(n, 1);
    hive_bus_destroy(bus);
}

Test(conditions, on_pattern_subscriptions, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int yes = 0, no = 0;
    hive_bus_subscribe(bus, "c:*", on_count, &yes, &(hive_sub_opts){ .cond = cond_true });
    hive_bus_subscribe(bus, "c:*", on_count, &no, &(hive_sub_opts){ .cond = cond_false });
    cr_expect_eq(hive_bus_publish_name(bus, "c:a", NULL, 0), 1);
    cr_expect_eq(yes, 1);
    cr_expect_eq(no, 0);
    hive_bus_destroy(bus);
}

static int self_sub;

static bool cond_unsubscribes_self(const hive_event *ev, void *user)
{
    (void)user;
    hive_bus_unsubscribe(ev->bus, self_sub);
    return true;
}

Test(conditions, removed_by_its_condition_does_not_run, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    self_sub = hive_bus_subscribe(bus, "c:x", on_count, &n,
                                  &(hive_sub_opts){ .cond = cond_unsubscribes_self });
    cr_expect_eq(hive_bus_publish_name(bus, "c:x", NULL, 0), 0);
    cr_expect_eq(n, 0);
    cr_expect_not(hive_bus_wants(bus, hive_bus_lookup(bus, "c:x")));
    hive_bus_destroy(bus);
}

/* Conditions run after higher-priority handlers: they see their effects. */
static void set_flag(const hive_event *ev, void *user) { (void)ev; *(bool *)user = true; }
static bool flag_is_set(const hive_event *ev, void *user) { (void)ev; return *(bool *)user; }

Test(conditions, checked_in_priority_order, .timeout = 5)
{
    hive_bus *bus = small_bus();
    bool flag = false;
    int n = 0;
    hive_bus_subscribe(bus, "c:x", on_count, &n, &(hive_sub_opts){ .cond = flag_is_set, .cond_user = &flag });
    hive_bus_subscribe(bus, "c:x", set_flag, &flag, &(hive_sub_opts){ .priority = 5 });
    cr_expect_eq(hive_bus_publish_name(bus, "c:x", NULL, 0), 2);
    cr_expect_eq(n, 1);
    hive_bus_destroy(bus);
}
