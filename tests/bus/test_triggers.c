/* Triggers: several events, all conditions, several actions, one unit. */
#include "helpers.h"

static bool door_open(const hive_event *ev, void *user) { (void)ev; return *(bool *)user; }

Test(triggers, two_events_and_a_condition_fire_actions, .timeout = 5)
{
    hive_bus *bus = small_bus();
    bool open = false;
    tlog log = { 0 };
    tag a1 = { &log, "a1" }, a2 = { &log, "a2" };
    const char *events[] = { "game:boss.dead", "game:key.found" };
    hive_trigger_cond conds[] = { { door_open, &open } };
    hive_trigger_action acts[] = { { on_tag, &a1 }, { on_tag, &a2 } };
    cr_assert_eq(hive_bus_trigger_add(bus, &(hive_trigger_desc){
        .name = "treasure", .events = events, .nevents = 2,
        .conds = conds, .nconds = 1, .actions = acts, .nactions = 2 }), HIVE_OK);
    /* Exact names were interned by the add. */
    hive_event_id boss = hive_bus_lookup(bus, "game:boss.dead");
    hive_event_id key = hive_bus_lookup(bus, "game:key.found");
    cr_assert_gt(boss, 0);
    cr_expect(hive_bus_wants(bus, boss));
    cr_expect(hive_bus_wants(bus, key));

    cr_expect_eq(hive_bus_publish(bus, boss, NULL, 0), 0); /* condition false */
    open = true;
    cr_expect_eq(hive_bus_publish(bus, key, NULL, 0), 2);
    cr_expect_eq(hive_bus_publish(bus, boss, NULL, 0), 2);
    cr_expect_eq(hive_bus_publish_name(bus, "game:other", NULL, 0), 0);
    cr_expect_str_eq(log.buf, "a1 a2 a1 a2 ");
    uint64_t fired = 0;
    cr_expect_eq(hive_bus_trigger_find(bus, "treasure", &fired), HIVE_OK);
    cr_expect_eq(fired, 2);
    hive_bus_destroy(bus);
}

Test(triggers, all_conditions_must_pass, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    const char *events[] = { "t:x" };
    hive_trigger_cond conds[] = { { cond_true, NULL }, { cond_false, NULL }, { cond_true, NULL } };
    hive_trigger_action acts[] = { { on_count, &n } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "and", .events = events, .nevents = 1,
        .conds = conds, .nconds = 3, .actions = acts, .nactions = 1 });
    hive_bus_publish_name(bus, "t:x", NULL, 0);
    cr_expect_eq(n, 0);
    uint64_t fired = 99;
    hive_bus_trigger_find(bus, "and", &fired);
    cr_expect_eq(fired, 0);
    hive_bus_destroy(bus);
}

Test(triggers, single_shot_removes_itself, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    const char *events[] = { "t:a", "t:b" };
    hive_trigger_action acts[] = { { on_count, &n } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "once", .events = events, .nevents = 2,
        .actions = acts, .nactions = 1, .single_shot = true });
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.triggers, 1);
    hive_bus_publish_name(bus, "t:b", NULL, 0);
    hive_bus_publish_name(bus, "t:a", NULL, 0);
    hive_bus_publish_name(bus, "t:b", NULL, 0);
    cr_expect_eq(n, 1);
    cr_expect_eq(hive_bus_trigger_find(bus, "once", NULL), HIVE_ENOENT);
    cr_expect_not(hive_bus_wants(bus, hive_bus_lookup(bus, "t:a")));
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.triggers, 0);
    hive_bus_destroy(bus);
}

Test(triggers, patterns_and_names_interned_later, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    /* Both events match "net:server.connection.close": one firing, not two. */
    const char *events[] = { "net:server.connection.*", "net:**" };
    hive_trigger_action acts[] = { { on_count, &n } };
    cr_assert_eq(hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "net", .events = events,
        .nevents = 2, .actions = acts, .nactions = 1 }), HIVE_OK);
    cr_expect_eq(hive_bus_publish_name(bus, "net:server.connection.close", NULL, 0), 1);
    cr_expect_eq(hive_bus_publish_name(bus, "net:server.start", NULL, 0), 1);
    cr_expect_eq(hive_bus_publish_name(bus, "game:x", NULL, 0), 0);
    cr_expect_eq(n, 2);
    hive_bus_destroy(bus);
}

static void remove_treasure(const hive_event *ev, void *user)
{
    (*(int *)user)++;
    cr_expect_eq(hive_bus_trigger_remove(ev->bus, "self"), HIVE_OK);
    cr_expect_eq(hive_bus_trigger_remove(ev->bus, "self"), HIVE_ENOENT);
}

Test(triggers, removed_from_its_own_action, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int first = 0, second = 0;
    const char *events[] = { "t:x" };
    hive_trigger_action acts[] = { { remove_treasure, &first }, { on_count, &second } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "self", .events = events, .nevents = 1,
        .actions = acts, .nactions = 2 });
    /* The firing completes (both actions), then the trigger is gone. */
    cr_expect_eq(hive_bus_publish_name(bus, "t:x", NULL, 0), 2);
    cr_expect_eq(hive_bus_publish_name(bus, "t:x", NULL, 0), 0);
    cr_expect_eq(first, 1);
    cr_expect_eq(second, 1);
    /* The name is free again. */
    cr_expect_eq(hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "self", .events = events,
        .nevents = 1, .actions = acts + 1, .nactions = 1 }), HIVE_OK);
    cr_expect_eq(hive_bus_publish_name(bus, "t:x", NULL, 0), 1);
    cr_expect_eq(second, 2);
    hive_bus_destroy(bus);
}

Test(triggers, priority_among_subscriptions, .timeout = 5)
{
    hive_bus *bus = small_bus();
    tlog log = { 0 };
    tag lo = { &log, "lo" }, hi = { &log, "hi" }, tr = { &log, "trig" };
    hive_bus_subscribe(bus, "t:x", on_tag, &lo, &(hive_sub_opts){ .priority = -1 });
    hive_bus_subscribe(bus, "t:x", on_tag, &hi, &(hive_sub_opts){ .priority = 1 });
    const char *events[] = { "t:x" };
    hive_trigger_action acts[] = { { on_tag, &tr } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "mid", .events = events, .nevents = 1,
        .actions = acts, .nactions = 1 });
    hive_bus_publish_name(bus, "t:x", NULL, 0);
    cr_expect_str_eq(log.buf, "hi trig lo ");
    hive_bus_destroy(bus);
}

Test(triggers, add_find_remove_errors, .timeout = 5)
{
    hive_bus *bus = small_bus();
    int n = 0;
    const char *events[] = { "t:x" };
    const char *bad_events[] = { "t:x*" };
    const char *null_event[] = { NULL };
    hive_trigger_action acts[] = { { on_count, &n } };
    hive_trigger_action null_act[] = { { NULL, NULL } };
    hive_trigger_cond null_cond[] = { { NULL, NULL } };
    hive_trigger_desc ok = { .name = "t", .events = events, .nevents = 1, .actions = acts, .nactions = 1 };
    hive_trigger_desc d;

    cr_expect_eq(hive_bus_trigger_add(bus, &ok), HIVE_OK);
    cr_expect_eq(hive_bus_trigger_add(bus, &ok), HIVE_EEXIST);
    d = ok; d.name = NULL;            cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "";              cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.nevents = 0; cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.events = NULL; cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.events = null_event; cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.nactions = 0; cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.actions = null_act; cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.nconds = 1; cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.conds = null_cond; d.nconds = 1;
    cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EINVAL);
    d = ok; d.name = "u"; d.events = bad_events; cr_expect_eq(hive_bus_trigger_add(bus, &d), HIVE_EPATTERN);
    cr_expect_eq(hive_bus_trigger_add(NULL, &ok), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_add(bus, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_find(bus, "u", NULL), HIVE_ENOENT);
    cr_expect_eq(hive_bus_trigger_remove(bus, "u"), HIVE_ENOENT);
    cr_expect_eq(hive_bus_trigger_find(bus, NULL, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_bus_trigger_remove(NULL, "t"), HIVE_EINVAL);

    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.triggers, 1);
    cr_expect_eq(hive_bus_trigger_remove(bus, "t"), HIVE_OK);
    cr_expect_eq(hive_bus_trigger_remove(bus, "t"), HIVE_ENOENT);
    cr_expect_eq(hive_bus_publish_name(bus, "t:x", NULL, 0), 0);
    cr_expect_eq(n, 0);
    hive_bus_destroy(bus);
}

static void copy_points(const hive_event *ev, void *user)
{
    *(int64_t *)user = hive_event_int(ev, "points", -1);
}

Test(triggers, actions_read_event_fields, .timeout = 5)
{
    hive_bus *bus = small_bus();
    const char *events[] = { "t:score" };
    int64_t got = 0;
    hive_trigger_action acts[] = { { copy_points, &got } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "s", .events = events, .nevents = 1,
        .actions = acts, .nactions = 1 });
    hive_field f[] = { HIVE_INT("points", 42) };
    hive_bus_publish_name(bus, "t:score", f, 1);
    cr_expect_eq(got, 42);
    hive_bus_destroy(bus);
}
