/* Out of memory at every allocation the engine makes: each failure is
 * reported (NULL or HIVE_ENOMEM) and nothing leaks or crashes. */
#include <stdlib.h>
#include "engine_util.h"

static long budget;   /* allocations left; < 0 = unlimited */

static void *oom_malloc(size_t n, void *u) { if (budget == 0) return NULL; if (budget > 0) budget--; return malloc(n); }
static void *oom_realloc(void *p, size_t n, void *u) { if (budget == 0) return NULL; if (budget > 0) budget--; return realloc(p, n); }
static void oom_free(void *p, void *u) { free(p); }

static void tick_once(hive_engine *e, int timer, void *user) { ++*(int *)user; }
static int svc(void *obj, int timeout_ms) { return 0; }

Test(oom, every_allocation_may_fail, .timeout = 10)
{
    hive_allocator a = { oom_malloc, oom_realloc, oom_free, NULL };
    int completed = 0;
    for (long n = 0; n < 400 && !completed; n++) {
        budget = n;
        cr_assert_eq(hive_set_allocator(&a), HIVE_OK);
        hive_bus *bus = hive_bus_create(NULL);
        hive_engine *e = bus ? hive_engine_create(&(hive_engine_config){ .bus = bus }) : NULL;
        if (bus && !e)
            cr_expect_eq(hive_create_error()->code, HIVE_ENOMEM, "%s", hive_create_error()->message);
        if (e) {
            int fired = 0, ok = 1;
            for (int i = 0; i < 20; i++) {
                int t = hive_engine_after(e, (uint64_t)i, tick_once, &fired);
                if (t < 0) { cr_expect_eq(t, HIVE_ENOMEM); ok = 0; }
                int s = hive_engine_add_service(e, svc, NULL);
                if (s < 0) { cr_expect_eq(s, HIVE_ENOMEM); ok = 0; }
            }
            hive_engine_step(e, hive_engine_now(e) + 50 * MS);
            if (ok) {
                cr_expect_eq(fired, 20);
                completed = 1;
            }
        }
        hive_engine_destroy(e);
        hive_bus_destroy(bus);
        cr_assert_eq(hive_set_allocator(NULL), HIVE_OK);
    }
    cr_expect(completed, "never got through with 400 allocations");
}
