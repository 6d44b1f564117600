/*
 * hive/engine.h - the game loop: a fixed-timestep clock, timers, and the
 * network services it drives, all speaking bus. libhive-engine
 * (pkg-config hive-engine) needs libc and libhive only: a headless server
 * links no SDL. The SDL2 window and input are hive/sdl.h (libhive-sdl).
 *
 * Each frame the loop services the network objects attached to it, drains
 * the bus queue within a time budget, fires due timers, and publishes the
 * events below. `tick` is the count (1, 2, ...), `dt` is seconds (double),
 * `alpha` in [0,1) is how far the clock is between two simulation ticks
 * (for interpolated drawing).
 *
 * THREADS
 *   An engine belongs to one thread (the bus's owner thread).
 *   hive_engine_stop() is the exception: safe from any thread and from
 *   signal handlers.
 */
#ifndef HIVE_ENGINE_H
#define HIVE_ENGINE_H

#include "common.h"
#include "bus.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Event names (published on the engine's bus, by hive_engine_step/run) */
/* ------------------------------------------------------------------ */

#define HIVE_EV_ENGINE_TICK          "engine:tick"          /* {tick, dt} fixed simulation step */
#define HIVE_EV_ENGINE_NETTICK       "engine:nettick"       /* {tick, dt} fixed network step */
#define HIVE_EV_ENGINE_FRAME         "engine:frame"         /* {frame, dt, alpha} once per frame */
#define HIVE_EV_ENGINE_START         "engine:start"         /* before hive_engine_run's first frame */
#define HIVE_EV_ENGINE_STOP          "engine:stop"          /* after hive_engine_run's last frame */
#define HIVE_EV_ENGINE_SERVICE_ERROR "engine:service.error" /* {service, error, name} a service failed */

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

/*
 * Defaults and limits of hive_engine_config. A zero field takes its
 * HIVE_ENGINE_DEFAULT_* (frame_hz: tick_hz); hive_engine_config_get reads
 * back what is in force. A value outside its limit makes
 * hive_engine_create fail, and hive_create_error() names the field.
 */
#define HIVE_ENGINE_DEFAULT_TICK_HZ             60.0
#define HIVE_ENGINE_DEFAULT_NET_HZ              30.0
#define HIVE_ENGINE_DEFAULT_DISPATCH_BUDGET_NS  4000000u  /* 4 ms */
#define HIVE_ENGINE_DEFAULT_MAX_TICKS_PER_FRAME 5
#define HIVE_ENGINE_MAX_HZ                      10000.0   /* tick_hz, net_hz, frame_hz */

typedef struct hive_engine hive_engine;

/* A monotonic clock in nanoseconds. The default is hive_now_ns. */
typedef uint64_t (*hive_clock_fn)(void *user);

/* Zero means default for every field except `bus`. */
typedef struct hive_engine_config {
    hive_bus *bus;              /* required; borrowed, must outlive the engine */
    double tick_hz;             /* simulation rate (engine:tick); default
                                   HIVE_ENGINE_DEFAULT_TICK_HZ */
    double net_hz;              /* network rate (engine:nettick); default
                                   HIVE_ENGINE_DEFAULT_NET_HZ */
    double frame_hz;            /* frame rate of hive_engine_run; default tick_hz.
                                   Higher than tick_hz: frames interpolate with alpha */
    uint64_t dispatch_budget_ns;/* time per frame for queued (posted) bus events;
                                   default HIVE_ENGINE_DEFAULT_DISPATCH_BUDGET_NS */
    int max_ticks_per_frame;    /* catch-up limit after a stall (>= 0); extra ticks
                                   are dropped and counted; default
                                   HIVE_ENGINE_DEFAULT_MAX_TICKS_PER_FRAME */
    hive_clock_fn clock;        /* default: a clock reading hive_now_ns() */
    void *clock_user;           /* passed to clock; ignored without one */
} hive_engine_config;

/*
 * hive_engine_create - make an engine on a bus.
 * cfg: required, with cfg->bus; copied (the bus stays borrowed). Zero
 * fields take their defaults (above). Rates must be > 0 when set and at
 * most HIVE_ENGINE_MAX_HZ; max_ticks_per_frame must not be negative.
 * Returns the engine (destroy it with hive_engine_destroy), or NULL:
 * hive_create_error() then says why - HIVE_EINVAL with the field at fault
 * ("tick_hz") and a printable message ("hive_engine_config.tick_hz: -1 is
 * not a rate in (0, 10000] Hz"), or HIVE_ENOMEM. A success clears that
 * record. The engine time starts at the clock's current value.
 * Owner thread (the thread that will step the engine).
 */
hive_engine *hive_engine_create(const hive_engine_config *cfg);

/*
 * hive_engine_config_get - the configuration in force: every zero field
 * of the one given to hive_engine_create replaced by its default (frame_hz
 * by tick_hz, clock by the default clock, which reads hive_now_ns()).
 * out: written on success; nothing in it is owned by the caller (bus and
 * clock_user are the ones given). Returns HIVE_OK, or HIVE_EINVAL for a
 * NULL argument. Any thread, while the engine lives (the config never
 * changes after create).
 */
int hive_engine_config_get(const hive_engine *e, hive_engine_config *out);

/*
 * hive_engine_destroy - free the engine and its timers. Services are
 * detached, not destroyed (the engine never owns them). NULL is a no-op.
 * Not from inside an engine callback or handler of its events.
 */
void hive_engine_destroy(hive_engine *e);

/* hive_engine_bus - the bus given at creation. */
hive_bus *hive_engine_bus(const hive_engine *e);

/* ------------------------------------------------------------------ */
/* Services: the network objects (and hive/sdl.h's pump) the loop drives */
/* ------------------------------------------------------------------ */

/*
 * A service does its I/O and publishes what happened on the bus, waiting
 * at most `timeout_ms` for something to happen (0: do not wait). It returns
 * the number of things handled (>= 0) or a negative HIVE_E* code.
 * hive_server_service() and hive_client_service() have exactly this shape
 * (with a cast of the object pointer); see hive_engine_attach_server().
 */
typedef int (*hive_service_fn)(void *obj, int timeout_ms);

/*
 * hive_engine_add_service - call fn(obj, 0) twice in every frame (before
 * the timers and ticks, and after them), and let the loop wait inside the
 * first service added (the idle time
 * between frames is spent in fn(obj, timeout) rather than asleep, so
 * network input is handled as soon as it arrives).
 * Returns a service id (> 0), HIVE_EINVAL, HIVE_ENOMEM. The engine does not
 * own obj. Owner thread; safe from handlers and timer callbacks.
 * A service that returns an error stays attached; the error is counted in
 * hive_engine_stats and published as engine:service.error {service, error}.
 */
int hive_engine_add_service(hive_engine *e, hive_service_fn fn, void *obj);

/* hive_engine_remove_service - detach a service by id. HIVE_OK or
 * HIVE_ENOENT. Safe from inside the service's own events. */
int hive_engine_remove_service(hive_engine *e, int service);

struct hive_server;
struct hive_client;

/*
 * hive_engine_attach_server / hive_engine_attach_client - drive a server
 * or client from the loop: hive_server_service() / hive_client_service()
 * every frame, and the idle time between frames spent waiting in the
 * first one attached. A server not started or a client not connected
 * (HIVE_ESTATE) and an interrupted wait (HIVE_ECLOSED) are not errors
 * here. Detach with hive_engine_remove_service() before destroying the
 * network object. Returns a service id (> 0), HIVE_EINVAL, HIVE_ENOMEM.
 * The engine does not own the server or client.
 */
int hive_engine_attach_server(hive_engine *e, struct hive_server *srv);
int hive_engine_attach_client(hive_engine *e, struct hive_client *cli);

/* ------------------------------------------------------------------ */
/* Running                                                              */
/* ------------------------------------------------------------------ */

/*
 * hive_engine_step - run one frame at time `now_ns` (a value of the
 * engine's clock; 0 means "read the clock"): services (no waiting), queued
 * bus events within the budget, due timers, then as many engine:tick and
 * engine:nettick as the time since the last step holds (at most
 * max_ticks_per_frame each), services once more (so what the ticks sent
 * leaves before the frame is drawn), then engine:frame.
 * Time never runs backwards: a now_ns below the previous one counts as no
 * time passing. Tests drive the engine deterministically with it.
 * Returns the number of simulation ticks run (>= 0), or HIVE_EINVAL,
 * HIVE_ESTATE (called from inside a step).
 */
int hive_engine_step(hive_engine *e, uint64_t now_ns);

/*
 * hive_engine_run - step until hive_engine_stop(), waiting between frames
 * inside the first service (or asleep when there is none). Publishes
 * engine:start before the first frame and engine:stop after the last.
 * Returns HIVE_OK after a stop, HIVE_ESTATE when already running.
 */
int hive_engine_run(hive_engine *e);

/*
 * hive_engine_stop - make hive_engine_run return after the current frame.
 * Safe from any thread and from signal handlers (sets one atomic flag).
 * A stop requested before run() makes the next run() return at once.
 */
void hive_engine_stop(hive_engine *e);

/* hive_engine_tick - simulation ticks run so far. */
uint64_t hive_engine_tick(const hive_engine *e);

/* hive_engine_now - the engine's current time: the time of the frame in
 * progress, or of the last one (ns, engine clock). Timers count from it. */
uint64_t hive_engine_now(const hive_engine *e);

/* hive_engine_tick_dt / hive_engine_net_dt - the fixed steps, seconds. */
double hive_engine_tick_dt(const hive_engine *e);
double hive_engine_net_dt(const hive_engine *e);

typedef struct hive_engine_counters {
    uint64_t ticks;          /* engine:tick published (counted even unheard) */
    uint64_t net_ticks;
    uint64_t frames;
    uint64_t dropped_ticks;  /* simulation ticks skipped after stalls */
    uint64_t dispatched;     /* queued bus events drained by the loop */
    uint64_t timers_fired;
    uint64_t service_errors;
    uint64_t idle_ns;        /* time spent waiting between frames in run() */
} hive_engine_counters;

/* hive_engine_stats - copy the counters. HIVE_OK or HIVE_EINVAL. */
int hive_engine_stats(const hive_engine *e, hive_engine_counters *out);

/* ------------------------------------------------------------------ */
/* Timers                                                               */
/* ------------------------------------------------------------------ */

/* A timer callback: its engine, the timer id, the user pointer. */
typedef void (*hive_timer_fn)(hive_engine *e, int timer, void *user);

/*
 * hive_engine_after - run fn once, `ms` milliseconds after now
 * (hive_engine_now). ms == 0 runs it at the next step.
 * hive_engine_every - run fn every `ms` milliseconds (ms > 0), first after
 * one period. A repeating timer that falls behind (a stall) runs once and
 * skips the periods it missed rather than firing in a burst.
 *
 * Timers run inside hive_engine_step, before the ticks, earliest due first
 * (ties by creation order). A timer created by a timer callback never runs
 * in the same step. Returns a timer id (> 0; ids are never reused),
 * HIVE_EINVAL, HIVE_ENOMEM. Owner thread; safe from any callback.
 */
int hive_engine_after(hive_engine *e, uint64_t ms, hive_timer_fn fn, void *user);
int hive_engine_every(hive_engine *e, uint64_t ms, hive_timer_fn fn, void *user);

/*
 * hive_engine_cancel - stop a timer. Safe from any callback, including the
 * timer's own (a repeating timer cancelled from its callback never runs
 * again). Returns HIVE_OK, or HIVE_ENOENT (unknown, fired one-shot, or
 * already cancelled).
 */
int hive_engine_cancel(hive_engine *e, int timer);

/* hive_engine_timer_count - timers pending. */
size_t hive_engine_timer_count(const hive_engine *e);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_ENGINE_H */
