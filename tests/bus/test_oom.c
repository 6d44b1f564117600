/* Out of memory, SQLite style: fail the Nth allocation (once, or from then
 * on) for every N over a scripted sequence of calls. Every call must
 * either succeed or fail with HIVE_ENOMEM / NULL, the bus must stay
 * consistent, and nothing may leak. */
#include "helpers.h"

#include <stdlib.h>

#include "tests/support/failalloc.h"

#define OK_OR_NOMEM(rc) \
    cr_assert((rc) >= 0 || (rc) == HIVE_ENOMEM, "%s: %s at failure %ld", #rc, hive_err_name(rc), failalloc_at)

/* Returns how many allocations the script asked for. */
static long script(void)
{
    failalloc_nth = 0;
    failalloc_live = 0;
    cr_assert_eq(hive_set_allocator(&failalloc), HIVE_OK);
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 16, .inline_bytes = 16 });
    if (!bus) goto done;

    int n = 0;
    hive_event_id id = hive_bus_intern(bus, "net:server.start");
    OK_OR_NOMEM(id);
    char name[64];
    for (int i = 0; i < 300; i++) { /* second page, table growth, new chunks */
        snprintf(name, sizeof name, "game:entity.e%d", i);
        int rc = hive_bus_intern(bus, name);
        OK_OR_NOMEM(rc);
        if (rc > 0) cr_assert_str_eq(hive_bus_name(bus, rc), name);
    }
    int expect = 0;
    int s1 = hive_bus_subscribe(bus, "net:server.start", on_count, &n, NULL);
    OK_OR_NOMEM(s1);
    expect += id > 0 && s1 > 0;
    int s2 = hive_bus_subscribe(bus, "net:**", on_count, &n, &(hive_sub_opts){ .priority = 2 });
    OK_OR_NOMEM(s2);
    expect += id > 0 && s2 > 0;
    const char *events[] = { "net:server.start", "game:**", "net:client.start" };
    hive_trigger_cond conds[] = { { cond_true, NULL } };
    hive_trigger_action acts[] = { { on_count, &n } };
    int t = hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "t", .events = events,
        .nevents = 3, .conds = conds, .nconds = 1, .actions = acts, .nactions = 1 });
    OK_OR_NOMEM(t);
    expect += id > 0 && t == HIVE_OK;
    cr_assert_eq(hive_bus_trigger_find(bus, "t", NULL), t == HIVE_OK ? HIVE_OK : HIVE_ENOENT);
    int o = hive_bus_observe(bus, on_count, &n);
    OK_OR_NOMEM(o);
    expect += id > 0 && o > 0;

    if (id > 0) {
        char big[100];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        hive_field small[] = { HIVE_INT("a", 1) };
        hive_field spill[] = { HIVE_INT("a", 1), HIVE_STR("big", big) };
        int p1 = hive_bus_post(bus, id, small, 1);
        cr_assert_eq(p1, HIVE_OK); /* inline: never allocates */
        int p2 = hive_bus_post(bus, id, spill, 2);
        OK_OR_NOMEM(p2);
        /* The lists are consistent with what succeeded. */
        cr_assert_eq(hive_bus_publish(bus, id, small, 1), expect, "failure %ld", failalloc_at);
        n = 0;
        int d = hive_bus_dispatch(bus, 0);
        cr_assert_eq(d, p2 == HIVE_OK ? 2 : 1);
        cr_assert_eq(n, d * expect);
    }
    if (s2 > 0) cr_assert_eq(hive_bus_unsubscribe(bus, s2), HIVE_OK);
    if (t == HIVE_OK) cr_assert_eq(hive_bus_trigger_remove(bus, "t"), HIVE_OK);
    hive_bus_destroy(bus);
done:
    hive_set_allocator(NULL);
    cr_assert_eq(failalloc_live, 0, "%ld blocks leaked at failure %ld", failalloc_live, failalloc_at);
    return failalloc_nth;
}

static void run_all(bool persist)
{
    failalloc_persistent = persist;
    failalloc_at = 0;
    long total = script();
    cr_assert_gt(total, 10);
    cr_log_info("script allocates %ld times", total);
    for (failalloc_at = 1; failalloc_at <= total + 1; failalloc_at++) script();
}

Test(oom, each_allocation_fails_once, .timeout = 30) { run_all(false); }
Test(oom, allocations_fail_from_n_on, .timeout = 30) { run_all(true); }
