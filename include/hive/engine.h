/*
 * hive/engine.h - the game loop: a fixed-timestep clock, timers, network
 * services, and SDL2 input turned into bus events.
 *
 * Two parts, two sets of object files, so a headless server never links
 * SDL:
 *
 *   hive_engine  (engine/loop.c, engine/timer.c, engine/service.c: libc
 *                 only; engine/attach.c adds servers and clients) - the loop. Each frame it services the network
 *                 objects attached to it, drains the bus queue within a time
 *                 budget, fires due timers, and publishes
 *                   engine:tick     {tick, dt}         fixed simulation step
 *                   engine:nettick  {tick, dt}         fixed network step
 *                   engine:frame    {frame, dt, alpha} once per frame
 *                   engine:start / engine:stop         around hive_engine_run
 *                 `tick` is the count (1, 2, ...), `dt` is seconds (double),
 *                 `alpha` in [0,1) is how far the clock is between two
 *                 simulation ticks (for interpolated drawing).
 *
 *   hive_sdl     (engine/sdl.c) - the SDL2 window and renderer, wrapped once.
 *                 Registered as a service of an engine, it turns SDL's
 *                 events into bus events:
 *                   sdl:quit
 *                   sdl:keydown / sdl:keyup {key, scancode, mods, repeat, name}
 *                   sdl:mousemotion   {x, y, dx, dy, buttons}
 *                   sdl:mousebutton   {button, down, x, y, clicks}
 *                   sdl:mousewheel    {dx, dy}
 *                   sdl:textinput     {text}
 *                   sdl:window.resized {width, height}
 *                 so game code hooks input exactly as it hooks the network.
 *
 * Nothing here includes SDL's headers: SDL objects are named by their
 * struct tags, so the header is usable from SDL-free programs.
 *
 * THREADS
 *   An engine and its hive_sdl belong to one thread (the bus's owner
 *   thread). hive_engine_stop() is the exception: safe from any thread and
 *   from signal handlers.
 */
#ifndef HIVE_ENGINE_H
#define HIVE_ENGINE_H

#include "common.h"
#include "bus.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hive_engine hive_engine;

/* A monotonic clock in nanoseconds. The default is hive_now_ns. */
typedef uint64_t (*hive_clock_fn)(void *user);

/* Zero means default for every field except `bus`. */
typedef struct hive_engine_config {
    hive_bus *bus;              /* required; borrowed, must outlive the engine */
    double tick_hz;             /* simulation rate; default 60 */
    double net_hz;              /* network rate (engine:nettick); default 30 */
    double frame_hz;            /* frame rate of hive_engine_run; default tick_hz.
                                   Higher than tick_hz: frames interpolate with alpha */
    uint64_t dispatch_budget_ns;/* time per frame for queued (posted) bus events;
                                   default 4 ms */
    int max_ticks_per_frame;    /* catch-up limit after a stall; extra ticks are
                                   dropped and counted; default 5 */
    hive_clock_fn clock;        /* default hive_now_ns */
    void *clock_user;
} hive_engine_config;

/*
 * hive_engine_create - make an engine on a bus.
 * cfg: required (cfg->bus required); copied. Rates must be > 0 when set
 * and at most 10000 Hz.
 * Returns the engine, or NULL (HIVE_EINVAL-worthy config, out of memory).
 * The engine time starts at cfg->clock's current value. Owner thread.
 */
hive_engine *hive_engine_create(const hive_engine_config *cfg);

/*
 * hive_engine_destroy - free the engine and its timers. Services are
 * detached, not destroyed (the engine never owns them). NULL is a no-op.
 * Not from inside an engine callback or handler of its events.
 */
void hive_engine_destroy(hive_engine *e);

/* hive_engine_bus - the bus given at creation. */
hive_bus *hive_engine_bus(const hive_engine *e);

/* ------------------------------------------------------------------ */
/* Services: the network objects (and the SDL pump) the loop drives     */
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

/* ------------------------------------------------------------------ */
/* SDL2: window, renderer, input as bus events (engine/sdl.c)          */
/* ------------------------------------------------------------------ */

struct SDL_Window;
struct SDL_Renderer;

typedef struct hive_sdl hive_sdl;

/* Zero means default. */
typedef struct hive_sdl_config {
    const char *title;          /* default "Hive" */
    int width, height;          /* window size; default 960 x 600 */
    bool resizable;
    bool hidden;                /* create the window hidden */
    bool no_window;             /* input only: no window, no renderer */
    bool vsync;                 /* present with vsync (off by default: the
                                   engine paces frames itself) */
    bool software;              /* force SDL's software renderer */
    bool manual_present;        /* default: the renderer is cleared before
                                   every engine:frame handler and presented
                                   after all of them; set to do it yourself */
    bool keep_running_on_quit;  /* default: sdl:quit stops the engine, after
                                   every other handler of sdl:quit ran */
    uint8_t clear_r, clear_g, clear_b; /* clear colour; default black */
} hive_sdl_config;

/*
 * hive_sdl_create - initialise SDL's video (honours SDL_VIDEODRIVER, e.g.
 * "dummy" without a display), open the window and renderer, and add the
 * event pump as a service of `e`.
 * cfg: may be NULL. Copied (title too).
 * Returns the object, or NULL when SDL fails (SDL_GetError() says why) or
 * out of memory. One hive_sdl per engine. Owner thread.
 */
hive_sdl *hive_sdl_create(hive_engine *e, const hive_sdl_config *cfg);

/* hive_sdl_destroy - close the window, remove the service and the
 * subscriptions, and quit SDL's video. NULL is a no-op. */
void hive_sdl_destroy(hive_sdl *s);

/* The SDL objects, owned by the hive_sdl (NULL with no_window). */
struct SDL_Window *hive_sdl_window(const hive_sdl *s);
struct SDL_Renderer *hive_sdl_renderer(const hive_sdl *s);

/*
 * hive_sdl_pump - turn every pending SDL event into its bus event now.
 * The engine calls it each frame; call it yourself only without an engine
 * loop. timeout_ms: wait at most that long for a first event (0: no wait).
 * Returns the number of SDL events handled (>= 0).
 */
int hive_sdl_pump(hive_sdl *s, int timeout_ms);

/*
 * hive_sdl_text_input - start (true) or stop (false) SDL text input, which
 * produces sdl:textinput events (for a chat box). Off at creation.
 */
void hive_sdl_text_input(hive_sdl *s, bool on);

/*
 * hive_sdl_screenshot - save what the renderer holds now as a PNG file.
 * With automatic presenting the renderer is cleared by an engine:frame
 * handler of priority INT_MAX and presented by one of priority INT_MIN, so
 * call it from an engine:frame handler whose priority is lower than your
 * drawing's (and above INT_MIN); with manual_present, before you present.
 * Returns HIVE_OK, HIVE_EINVAL, HIVE_ESTATE (no renderer), HIVE_EIO
 * (SDL or the file failed; SDL_GetError() says why).
 */
int hive_sdl_screenshot(hive_sdl *s, const char *png_path);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_ENGINE_H */
