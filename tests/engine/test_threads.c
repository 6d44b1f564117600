/* The engine's two cross-thread doors (run under ThreadSanitizer by
 * `make tsan`): hive_engine_stop from any thread, and events posted by
 * other threads, delivered by the loop on its own thread. */
#include <pthread.h>
#include <unistd.h>
#include "engine_util.h"

static void *stop_later(void *arg)
{
    usleep(100 * 1000);
    hive_engine_stop(arg);
    return NULL;
}

Test(threads, stop_from_another_thread, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, stop_later, e), 0);
    cr_expect_eq(hive_engine_run(e), HIVE_OK);
    pthread_join(th, NULL);
    cr_expect_gt(hive_engine_tick(e), 0);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

typedef struct poster { hive_bus *bus; hive_event_id id; int n; } poster;

static void *post_many(void *arg)
{
    poster *p = arg;
    for (int i = 0; i < p->n; i++) {
        hive_field f[] = { HIVE_INT("i", i) };
        while (hive_bus_post(p->bus, p->id, f, 1) == HIVE_EFULL) usleep(100);
    }
    return NULL;
}

typedef struct sink { hive_engine *e; int got, want; int64_t last; bool ordered; } sink;

static void on_posted(const hive_event *ev, void *user)
{
    sink *s = user;
    int64_t i = hive_event_int(ev, "i", -1);
    if (i != s->last + 1) s->ordered = false;
    s->last = i;
    if (++s->got == s->want) hive_engine_stop(s->e);
}

static void give_up(hive_engine *e, int timer, void *user) { hive_engine_stop(e); }

Test(threads, posted_events_reach_the_loop_thread, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 1024 });
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    poster p = { bus, hive_bus_intern(bus, "game:remote"), 20000 };
    sink s = { e, 0, p.n, -1, true };
    hive_bus_subscribe(bus, "game:remote", on_posted, &s, NULL);
    hive_engine_after(e, 8000, give_up, NULL);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, post_many, &p), 0);
    hive_engine_run(e);
    pthread_join(th, NULL);
    cr_expect_eq(s.got, p.n, "every posted event was delivered by the loop");
    cr_expect(s.ordered, "in the order they were posted");
    hive_engine_counters st;
    hive_engine_stats(e, &st);
    cr_expect_eq(st.dispatched, (uint64_t)p.n);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}
