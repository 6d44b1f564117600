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

#define HIVE__ENGINE_MAX_HZ 10000.0

static uint64_t default_clock(void *user)
{
    (void)user;
    return hive_now_ns();
}

/* 0 means default; anything else must be a sane positive rate. */
static bool rate_ns(double hz, double def, uint64_t *out)
{
    if (hz == 0) hz = def;
    if (!(hz > 0) || hz > HIVE__ENGINE_MAX_HZ) return false;   /* NaN fails too */
    *out = (uint64_t)(1e9 / hz + 0.5);
    return *out > 0;
}

hive_engine *hive_engine_create(const hive_engine_config *cfg)
{
    if (!cfg || !cfg->bus || cfg->max_ticks_per_frame < 0) return NULL;
    hive_engine *e = hive__calloc(1, sizeof *e);
    if (!e) return NULL;
    e->bus = cfg->bus;
    e->clock = cfg->clock ? cfg->clock : default_clock;
    e->clock_user = cfg->clock ? cfg->clock_user : NULL;
    double tick_hz = cfg->tick_hz ? cfg->tick_hz : 60.0;
    if (!rate_ns(tick_hz, 60.0, &e->tick_ns) ||
        !rate_ns(cfg->net_hz, 30.0, &e->net_ns) ||
        !rate_ns(cfg->frame_hz, tick_hz, &e->frame_ns))
        goto fail;
    e->budget_ns = cfg->dispatch_budget_ns ? cfg->dispatch_budget_ns : 4000000u;
    e->max_ticks = cfg->max_ticks_per_frame ? cfg->max_ticks_per_frame : 5;
    atomic_init(&e->stop, 0);

    /* Interned once: every publish after this is by id. */
    e->ev_tick = hive_bus_intern(e->bus, "engine:tick");
    e->ev_nettick = hive_bus_intern(e->bus, "engine:nettick");
    e->ev_frame = hive_bus_intern(e->bus, "engine:frame");
    e->ev_start = hive_bus_intern(e->bus, "engine:start");
    e->ev_stop = hive_bus_intern(e->bus, "engine:stop");
    e->ev_svc_err = hive_bus_intern(e->bus, "engine:service.error");
    if (e->ev_tick <= 0 || e->ev_nettick <= 0 || e->ev_frame <= 0 ||
        e->ev_start <= 0 || e->ev_stop <= 0 || e->ev_svc_err <= 0)
        goto fail;

    e->start = e->now = e->last_frame = hive__engine_clock(e);
    return e;
fail:
    hive__free(e);
    return NULL;
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
    if (e) atomic_store(&e->stop, 1);
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
    while (!atomic_load(&e->stop)) {
        hive_engine_step(e, hive__engine_clock(e));
        if (atomic_load(&e->stop)) break;
        hive__engine_idle(e, next_deadline(e, hive__engine_clock(e)));
    }
    if (hive_bus_wants(e->bus, e->ev_stop)) hive_bus_publish(e->bus, e->ev_stop, NULL, 0);
    atomic_store(&e->stop, 0);
    e->running = false;
    return HIVE_OK;
}
