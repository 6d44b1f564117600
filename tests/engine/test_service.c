/* Services: the network objects the loop drives every frame. */
#include "engine_util.h"

typedef struct svc {
    hive_engine *e;
    int calls;
    int max_timeout;
    int ret;
    int remove_id;       /* removes this service from inside its call */
    int remove_rc;
} svc;

static int svc_fn(void *obj, int timeout_ms)
{
    svc *s = obj;
    s->calls++;
    if (timeout_ms > s->max_timeout) s->max_timeout = timeout_ms;
    if (s->remove_id) {
        s->remove_rc = hive_engine_remove_service(s->e, s->remove_id);
        s->remove_id = 0;
    }
    return s->ret;
}

Test(service, called_each_step_without_waiting, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    svc a = { .e = r.e }, b = { .e = r.e };
    int ia = hive_engine_add_service(r.e, svc_fn, &a);
    int ib = hive_engine_add_service(r.e, svc_fn, &b);
    cr_assert_gt(ia, 0);
    cr_assert_gt(ib, ia);
    for (int i = 0; i < 10; i++) rig_step(&r, TICK60);
    /* Twice a frame: before the ticks (input) and after (output). */
    cr_expect_eq(a.calls, 20);
    cr_expect_eq(b.calls, 20);
    cr_expect_eq(a.max_timeout, 0, "step never waits");
    rig_fini(&r);
}

Test(service, removed_from_inside_its_own_call, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    svc a = { .e = r.e }, b = { .e = r.e };
    int ia = hive_engine_add_service(r.e, svc_fn, &a);
    hive_engine_add_service(r.e, svc_fn, &b);
    a.remove_id = ia;
    rig_step(&r, 1 * MS);
    cr_expect_eq(a.remove_rc, HIVE_OK);
    cr_expect_eq(a.calls, 1, "never called again, not even later in that frame");
    cr_expect_eq(b.calls, 2, "the next service still runs in that frame");
    rig_step(&r, 1 * MS);
    cr_expect_eq(a.calls, 1);
    cr_expect_eq(b.calls, 4);
    cr_expect_eq(hive_engine_remove_service(r.e, ia), HIVE_ENOENT);
    rig_fini(&r);
}

static void count_err(const hive_event *ev, void *user)
{
    int *n = user;
    cr_expect_eq(hive_event_int(ev, "error", 0), HIVE_EIO);
    cr_expect_str_eq(hive_event_str(ev, "name"), "HIVE_EIO");
    ++*n;
}

Test(service, errors_are_counted_and_published, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    svc a = { .e = r.e, .ret = HIVE_EIO };
    int seen = 0;
    hive_bus_subscribe(r.bus, "engine:service.error", count_err, &seen, NULL);
    hive_engine_add_service(r.e, svc_fn, &a);
    rig_step(&r, 1 * MS);
    rig_step(&r, 1 * MS);
    cr_expect_eq(seen, 4);
    hive_engine_counters st;
    hive_engine_stats(r.e, &st);
    cr_expect_eq(st.service_errors, 4);
    cr_expect_eq(a.calls, 4, "a failing service stays attached");
    rig_fini(&r);
}

Test(service, invalid_arguments, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    cr_expect_eq(hive_engine_add_service(r.e, NULL, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_engine_add_service(NULL, svc_fn, NULL), HIVE_EINVAL);
    cr_expect_eq(hive_engine_remove_service(r.e, 99), HIVE_ENOENT);
    rig_fini(&r);
}

/* Queued (posted) bus events are delivered by the loop each frame. */
static void count(const hive_event *ev, void *user) { ++*(int *)user; }

Test(service, step_drains_posted_events, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    int n = 0;
    hive_bus_subscribe(r.bus, "game:ping", count, &n, NULL);
    hive_event_id id = hive_bus_intern(r.bus, "game:ping");
    for (int i = 0; i < 10; i++) hive_bus_post(r.bus, id, NULL, 0);
    cr_expect_eq(n, 0);
    rig_step(&r, 1 * MS);
    cr_expect_eq(n, 10);
    hive_engine_counters st;
    hive_engine_stats(r.e, &st);
    cr_expect_eq(st.dispatched, 10);
    rig_fini(&r);
}

/* What a tick sends must leave in the same frame: the second service
 * call comes after engine:tick and before engine:frame. */
typedef struct order { int calls; int calls_at_tick; int calls_at_frame; } order;

static int order_svc(void *obj, int timeout_ms) { ((order *)obj)->calls++; return 0; }
static void order_tick(const hive_event *ev, void *user) { order *o = user; o->calls_at_tick = o->calls; }
static void order_frame(const hive_event *ev, void *user) { order *o = user; o->calls_at_frame = o->calls; }

Test(service, polled_again_between_ticks_and_frame, .timeout = 10)
{
    rig r; rig_init(&r, NULL);
    order o = { 0 };
    hive_engine_add_service(r.e, order_svc, &o);
    hive_bus_subscribe(r.bus, "engine:tick", order_tick, &o, NULL);
    hive_bus_subscribe(r.bus, "engine:frame", order_frame, &o, NULL);
    rig_step(&r, TICK60);
    cr_expect_eq(o.calls_at_tick, 1);
    cr_expect_eq(o.calls_at_frame, 2);
    rig_fini(&r);
}
