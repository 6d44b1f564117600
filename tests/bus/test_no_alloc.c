/* The synchronous path allocates nothing: proven with a counting
 * allocator installed through hive_set_allocator. */
#include "helpers.h"

#include <stdlib.h>

static long calls, mallocs, frees;

static void *count_malloc(size_t n, void *u) { (void)u; calls++; mallocs++; return malloc(n); }
static void *count_realloc(void *p, size_t n, void *u)
{
    (void)u;
    calls++;
    if (!p) mallocs++;
    return realloc(p, n);
}
static void count_free(void *p, void *u) { (void)u; frees++; free(p); }

static void read_fields(const hive_event *ev, void *user)
{
    (*(int64_t *)user) += hive_event_int(ev, "n", 0) + (int64_t)strlen(hive_event_str(ev, "s"));
}

Test(no_alloc, publish_allocates_nothing, .timeout = 10)
{
    cr_assert_eq(hive_set_allocator(&(hive_allocator){ count_malloc, count_realloc, count_free, NULL }),
                 HIVE_OK);
    hive_bus *bus = small_bus();
    int64_t sum = 0;
    int n = 0;
    hive_event_id id = hive_bus_intern(bus, "game:tick.frame");
    hive_bus_subscribe_id(bus, id, read_fields, &sum, NULL);
    hive_bus_subscribe(bus, "game:**", on_count, &n, &(hive_sub_opts){ .priority = 3 });
    hive_bus_subscribe(bus, "game:tick.*", on_count, &n, &(hive_sub_opts){ .cond = cond_true });
    for (int i = 0; i < 10; i++)
        hive_bus_subscribe_id(bus, id, on_count, &n, &(hive_sub_opts){ .once = true });
    const char *events[] = { "game:tick.*" };
    hive_trigger_cond conds[] = { { cond_true, NULL } };
    hive_trigger_action acts[] = { { on_count, &n } };
    hive_bus_trigger_add(bus, &(hive_trigger_desc){ .name = "t", .events = events, .nevents = 1,
        .conds = conds, .nconds = 1, .actions = acts, .nactions = 1, .single_shot = true });
    hive_bus_observe(bus, on_count, &n);
    const unsigned char raw[] = { 0xc0 };
    hive_field f[] = { HIVE_INT("n", 2), HIVE_STR("s", "abc"), HIVE_BYTES("b", raw, 1),
                       HIVE_MSGPACK("m", raw, 1, NULL), HIVE_DOUBLE("d", 1.0), HIVE_PTR("p", &n) };

    long before = calls;
    for (int i = 0; i < 1000; i++) {
        cr_assert_geq(hive_bus_publish(bus, id, f, 6), 4);
        cr_assert_geq(hive_bus_publish_name(bus, "game:tick.frame", f, 6), 4);
    }
    long during = calls - before;
    cr_expect_eq(during, 0, "publish allocated %ld times", during);
    cr_expect_eq(sum, 2000 * 5);
    /* once handlers and the single-shot trigger were reclaimed (frees only) */
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.triggers, 0);
    cr_expect_eq(c.subscriptions, 4);
    hive_bus_destroy(bus);
    cr_expect_eq(mallocs, frees, "every allocation freed");
    hive_set_allocator(NULL);
}
