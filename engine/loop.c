/*
 * loop.c - the fixed-timestep loop: one frame = services, queued bus
 * events, timers, simulation ticks, network ticks, services again,
 * engine:frame.
 *
 * Time is an accumulator (Glenn Fiedler's "fix your timestep"): the real
 * time since the last frame is added, and whole ticks are taken out of it,
 * so the simulation advances by exactly dt no matter how frames are paced.
 * Everything reads time from one clock function, and hive_engine_step()
 * takes the time as an argument, which is what makes the loop testable
 * without sleeping.
 */
#include "events/internal.h"
#include "engine_internal.h"

static uint64_t default_clock(void *user)
{
    (void)user;
    return hive_now_ns();
}

/* A rate given (non-zero) must be in (0, HIVE_ENGINE_MAX_HZ]; NaN fails. */
static int check_rate(const char *field, double hz)
{
    if (hz > 0 && hz <= HIVE_ENGINE_MAX_HZ) return HIVE_OK;
    return hive__create_fail(HIVE_EINVAL, field,
                             "hive_engine_config.%s: %g is not a rate in (0, %g] Hz",
                             field, hz, HIVE_ENGINE_MAX_HZ);
}

/*
 * The one place engine defaults are filled in and limits checked. Writes
 * *out or records why not and returns the code for hive_create_error().
 */
static int engine_config_resolve(const hive_engine_config *in, hive_engine_config *out)
{
    if (!in) return hive__create_fail(HIVE_EINVAL, "", "hive_engine_create: config is NULL");
    hive_engine_config c = *in;
    if (!c.bus) return hive__create_fail(HIVE_EINVAL, "bus", "hive_engine_config.bus: is NULL (a bus is required)");
    if (c.tick_hz == 0) c.tick_hz = HIVE_ENGINE_DEFAULT_TICK_HZ;
    if (c.net_hz == 0) c.net_hz = HIVE_ENGINE_DEFAULT_NET_HZ;
    if (c.frame_hz == 0) c.frame_hz = c.tick_hz;
    if (!c.dispatch_budget_ns) c.dispatch_budget_ns = HIVE_ENGINE_DEFAULT_DISPATCH_BUDGET_NS;
    if (!c.max_ticks_per_frame) c.max_ticks_per_frame = HIVE_ENGINE_DEFAULT_MAX_TICKS_PER_FRAME;
    if (!c.clock) {
        c.clock = default_clock;
        c.clock_user = NULL;
    }
    int rc;
    if ((rc = check_rate("tick_hz", c.tick_hz)) < 0 ||
        (rc = check_rate("net_hz", c.net_hz)) < 0 ||
        (rc = check_rate("frame_hz", c.frame_hz)) < 0)
        return rc;
    if (c.max_ticks_per_frame < 0)
        return hive__create_fail(HIVE_EINVAL, "max_ticks_per_frame",
                                 "hive_engine_config.max_ticks_per_frame: %d is negative",
                                 c.max_ticks_per_frame);
    *out = c;
    return HIVE_OK;
}

/* hz is checked: in (0, HIVE_ENGINE_MAX_HZ], so at least 100000 ns. */
static uint64_t period_ns(double hz)
{
    return (uint64_t)(1e9 / hz + 0.5);
}

hive_engine *hive_engine_create(const hive_engine_config *cfg)
{
    hive_engine_config c;
    if (engine_config_resolve(cfg, &c) < 0) return NULL;
    int code = HIVE_ENOMEM;
    const char *what = "allocating the engine";
    hive_engine *e = hive__calloc(1, sizeof *e);
    if (!e) goto fail;
    e->cfg = c;
    e->bus = c.bus;
    e->clock = c.clock;
    e->clock_user = c.clock_user;
    e->tick_ns = period_ns(c.tick_hz);
    e->net_ns = period_ns(c.net_hz);
    e->frame_ns = period_ns(c.frame_hz);
    e->budget_ns = c.dispatch_budget_ns;
    e->max_ticks = c.max_ticks_per_frame;
    __atomic_store_n(&e->stop, 0, __ATOMIC_SEQ_CST);

    /* Interned once: every publish after this is by id. The names are
     * valid, so interning fails only for want of memory or of room in
     * the bus's name table; the code says which. */
    struct { hive_event_id *id; const char *name; } names[] = {
        { &e->ev_tick, HIVE_EV_ENGINE_TICK },   { &e->ev_nettick, HIVE_EV_ENGINE_NETTICK },
        { &e->ev_frame, HIVE_EV_ENGINE_FRAME }, { &e->ev_start, HIVE_EV_ENGINE_START },
        { &e->ev_stop, HIVE_EV_ENGINE_STOP },   { &e->ev_svc_err, HIVE_EV_ENGINE_SERVICE_ERROR },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        hive_event_id id = hive_bus_intern(e->bus, names[i].name);
        if (id <= 0) {
            if (id < 0) code = (int)id;
            what = names[i].name;   /* "hive_engine_create: engine:tick: ..." */
            goto fail;
        }
        *names[i].id = id;
    }

    e->start = e->now = e->last_frame = hive__engine_clock(e);
    hive__create_ok();
    return e;
fail:
    hive__free(e);
    hive__create_fail(code, "", "hive_engine_create: %s: %s", what, hive_strerror(code));
    return NULL;
}

int hive_engine_config_get(const hive_engine *e, hive_engine_config *out)
{
    if (!e || !out) return HIVE_EINVAL;
    *out = e->cfg;
    return HIVE_OK;
}

void hive_engine_destroy(hive_engine *e)
{
    if (!e) return;
    hive__engine_free_timers(e);
    hive__engine_free_services(e);
    hive__free(e);
}

hive_bus *hive_engine_bus(const hive_engine *e) { return e ? e->bus : NULL; }
uint64_t hive_engine_tick(const hive_engine *e) { return e ? e->tick : 0; }
uint64_t hive_engine_now(const hive_engine *e) { return e ? e->now : 0; }
double hive_engine_tick_dt(const hive_engine *e) { return e ? (double)e->tick_ns / 1e9 : 0; }
double hive_engine_net_dt(const hive_engine *e) { return e ? (double)e->net_ns / 1e9 : 0; }

int hive_engine_stats(const hive_engine *e, hive_engine_counters *out)
{
    if (!e || !out) return HIVE_EINVAL;
    *out = e->st;
    return HIVE_OK;
}

void hive_engine_stop(hive_engine *e)
{
    if (e) __atomic_store_n(&e->stop, 1, __ATOMIC_SEQ_CST);
}

/* Take whole steps out of an accumulator; publish each (when heard).
 * Returns how many ran. Whatever is beyond the catch-up limit is dropped,
 * so a long stall (a debugger, a suspended laptop) does not turn into a
 * burst of hundreds of ticks. */
static int run_ticks(hive_engine *e, uint64_t *acc, uint64_t step, uint64_t *count,
                     hive_event_id id, uint64_t *dropped)
{
    int n = 0;
    while (*acc >= step && n < e->max_ticks) {
        *acc -= step;
        ++*count;
        ++n;
        if (hive_bus_wants(e->bus, id)) {
            hive_field f[] = { HIVE_INT("tick", *count), HIVE_DOUBLE("dt", (double)step / 1e9) };
            hive_bus_publish(e->bus, id, f, 2);
        }
    }
    if (*acc >= step) {
        if (dropped) *dropped += *acc / step;
        *acc %= step;
    }
    return n;
}

int hive_engine_step(hive_engine *e, uint64_t now_ns)
{
    if (!e) return HIVE_EINVAL;
    if (e->stepping) return HIVE_ESTATE;
    e->stepping = true;
    if (now_ns == 0) now_ns = hive__engine_clock(e);
    uint64_t elapsed = now_ns > e->now ? now_ns - e->now : 0;
    if (now_ns > e->now) e->now = now_ns;

    hive__engine_poll_services(e);
    int d = hive_bus_dispatch_for(e->bus, e->budget_ns);
    if (d > 0) e->st.dispatched += (uint64_t)d;
    hive__engine_fire_timers(e);

    e->tick_acc += elapsed;
    e->net_acc += elapsed;
    int ticks = run_ticks(e, &e->tick_acc, e->tick_ns, &e->tick, e->ev_tick, &e->st.dropped_ticks);
    e->st.ticks = e->tick;
    run_ticks(e, &e->net_acc, e->net_ns, &e->net_tick, e->ev_nettick, NULL);
    e->st.net_ticks = e->net_tick;
    /* Once more, without waiting: what the ticks sent (inputs, snapshots)
     * leaves now rather than after the frame is drawn, which can take
     * longer than the network round trip itself. */
    hive__engine_poll_services(e);

    e->frame++;
    e->st.frames = e->frame;
    if (hive_bus_wants(e->bus, e->ev_frame)) {
        hive_field f[] = {
            HIVE_INT("frame", e->frame),
            HIVE_DOUBLE("dt", (double)(e->now - e->last_frame) / 1e9),
            HIVE_DOUBLE("alpha", (double)e->tick_acc / (double)e->tick_ns),
        };
        hive_bus_publish(e->bus, e->ev_frame, f, 3);
    }
    e->last_frame = e->now;
    e->stepping = false;
    return ticks;
}

/* Frames sit on a grid anchored at creation, so with frame_hz == tick_hz
 * every frame lands just as a tick becomes due instead of drifting by the
 * wake-up latency. A timer due earlier wakes the loop earlier. */
static uint64_t next_deadline(const hive_engine *e, uint64_t now)
{
    uint64_t since = now > e->start ? now - e->start : 0;
    uint64_t next = e->start + (since / e->frame_ns + 1) * e->frame_ns;
    uint64_t t;
    if (hive__engine_next_timer(e, &t) && t < next) next = t;
    return next;
}

int hive_engine_run(hive_engine *e)
{
    if (!e) return HIVE_EINVAL;
    if (e->running || e->stepping) return HIVE_ESTATE;
    e->running = true;
    if (hive_bus_wants(e->bus, e->ev_start)) hive_bus_publish(e->bus, e->ev_start, NULL, 0);
    while (!hive__engine_stopping(e)) {
        hive_engine_step(e, hive__engine_clock(e));
        if (hive__engine_stopping(e)) break;
        hive__engine_idle(e, next_deadline(e, hive__engine_clock(e)));
    }
    if (hive_bus_wants(e->bus, e->ev_stop)) hive_bus_publish(e->bus, e->ev_stop, NULL, 0);
    __atomic_store_n(&e->stop, 0, __ATOMIC_SEQ_CST);
    e->running = false;
    return HIVE_OK;
}
