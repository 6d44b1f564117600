/*
 * engine_internal.h - the engine object, shared by loop.c, timer.c and
 * service.c. Nothing here knows SDL (engine/sdl/ uses the public API only).
 *
 * Atomics: the GCC __atomic builtins, as everywhere in Hive. Only `stop`
 * is shared between threads (hive_engine_stop from any thread or a signal
 * handler); every other field belongs to the owner thread.
 */
#ifndef HIVE_ENGINE_INTERNAL_H
#define HIVE_ENGINE_INTERNAL_H

#include "hive/engine.h"

typedef struct hive__service {
    int id;
    hive_service_fn fn;      /* NULL once removed (compacted when safe) */
    void *obj;
} hive__service;

typedef struct hive__timer {
    int id;
    bool dead;               /* fired one-shot or cancelled; compacted when safe */
    uint64_t due;            /* engine time, ns */
    uint64_t period;         /* ns; 0 for a one-shot */
    uint64_t seq;            /* creation order: ties, and "not in the step that made it" */
    hive_timer_fn fn;
    void *user;
} hive__timer;

struct hive_engine {
    hive_engine_config cfg;  /* in force: defaults filled (hive_engine_config_get) */
    hive_bus *bus;
    hive_clock_fn clock;
    void *clock_user;

    uint64_t tick_ns, net_ns, frame_ns, budget_ns;
    int max_ticks;

    uint64_t start;          /* engine time at creation: the frame grid's origin */
    uint64_t now;            /* time of the frame in progress or the last one */
    uint64_t last_frame;
    uint64_t tick_acc, net_acc;
    uint64_t tick, net_tick, frame;
    bool stepping, running;
    int stop;                /* __atomic: set by hive_engine_stop, any thread */
    hive_engine_counters st;

    hive_event_id ev_tick, ev_nettick, ev_frame, ev_start, ev_stop, ev_svc_err;

    hive__service *svc;
    size_t nsvc, svc_cap;
    int svc_next_id;
    int svc_depth;           /* >0 while services are being called */

    hive__timer *timers;
    size_t ntimers, timer_cap;
    int timer_next_id;
    uint64_t timer_seq;
    int timer_depth;         /* >0 while timers are firing */
    size_t timers_live;
};

/* timer.c */
void hive__engine_fire_timers(hive_engine *e);
bool hive__engine_next_timer(const hive_engine *e, uint64_t *due);
void hive__engine_free_timers(hive_engine *e);

/* service.c */
void hive__engine_poll_services(hive_engine *e);
void hive__engine_idle(hive_engine *e, uint64_t deadline);
void hive__engine_free_services(hive_engine *e);

static inline bool hive__engine_stopping(const hive_engine *e)
{
    return __atomic_load_n(&e->stop, __ATOMIC_SEQ_CST) != 0;
}

static inline uint64_t hive__engine_clock(const hive_engine *e)
{
    return e->clock(e->clock_user);
}

#endif /* HIVE_ENGINE_INTERNAL_H */
