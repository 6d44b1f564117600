/* Shared helpers for the engine tests: a fake clock the test moves by
 * hand, and an engine on a fresh bus driven by it. */
#ifndef HIVE_TEST_ENGINE_UTIL_H
#define HIVE_TEST_ENGINE_UTIL_H

#include <criterion/criterion.h>
#include <hive/hive.h>
#include <hive/engine.h>

#define MS 1000000ull
#define TICK60 16666667ull   /* 1e9 / 60, rounded */

typedef struct fake_clock { uint64_t t; } fake_clock;

static inline uint64_t fake_now(void *user) { return ((fake_clock *)user)->t; }

typedef struct rig {
    hive_bus *bus;
    hive_engine *e;
    fake_clock clock;
} rig;

/* Engine with the fake clock at t=0; cfg may be NULL (defaults). */
static inline void rig_init(rig *r, const hive_engine_config *cfg)
{
    r->clock.t = 1000 * MS;   /* not zero: step(0) means "read the clock" */
    r->bus = hive_bus_create(NULL);
    cr_assert_not_null(r->bus);
    hive_engine_config c = cfg ? *cfg : (hive_engine_config){ 0 };
    c.bus = r->bus;
    c.clock = fake_now;
    c.clock_user = &r->clock;
    r->e = hive_engine_create(&c);
    cr_assert_not_null(r->e);
}

/* Advance the fake clock by dt_ns and run one frame; returns ticks run. */
static inline int rig_step(rig *r, uint64_t dt_ns)
{
    r->clock.t += dt_ns;
    return hive_engine_step(r->e, r->clock.t);
}

static inline void rig_fini(rig *r)
{
    hive_engine_destroy(r->e);
    hive_bus_destroy(r->bus);
}

/* Records the events of one name. */
#define REC_MAX 64
typedef struct rec {
    int n;
    int64_t tick[REC_MAX];
    double dt[REC_MAX];
    double alpha[REC_MAX];
} rec;

static inline void rec_event(const hive_event *ev, void *user)
{
    rec *r = user;
    if (r->n < REC_MAX) {
        r->tick[r->n] = hive_event_int(ev, "tick", hive_event_int(ev, "frame", -1));
        r->dt[r->n] = hive_event_double(ev, "dt", -1);
        r->alpha[r->n] = hive_event_double(ev, "alpha", -1);
    }
    r->n++;
}

#endif
