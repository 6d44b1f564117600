/*
 * bench-bus - what the event bus costs, measured against a plain indirect
 * function call in the same run.
 *
 *   make release && bin/Release/bench-bus
 *
 * Synchronous: ns per hive_bus_publish with 0, 1, 10, 100 exact
 * subscribers, through one pattern subscription, and by name. Baselines:
 * 1, 10 and 100 calls through a volatile function pointer (the compiler
 * cannot inline or hoist them) to the same handler the bus calls.
 * Cross-thread: events per second posted by 1 or 2 producer threads and
 * dispatched by the owner thread, each event with one int field.
 * Synchronous figures are the best of many short rounds of thread CPU
 * time; a ratio compares two figures measured in alternation, so both saw
 * the same machine. Cross-thread figures are wall time, best of 3.
 */
#include "hive/bus.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 41

/* The work every handler does, bus or baseline. */
static void handler(const hive_event *ev, void *user)
{
    (void)ev;
    (*(uint64_t *)user)++;
}

static void (*volatile indirect)(const hive_event *, void *) = handler;

static uint64_t counter;

static void emit(const char *name, double value, const char *unit)
{
    printf("hive-bench %s value=%.3f unit=%s\n", name, value, unit);
}

static void emit_ratio(const char *name, double v, const char *base, double b)
{
    printf("hive-bench %s ratio=%.3f vs=%s\n", name, v / b, base);
}

/* ---- synchronous ------------------------------------------------------ */

typedef struct sync_case {
    hive_bus *bus;
    hive_event_id id;
    const char *name;
    const hive_field *f;
    size_t n;
    int calls; /* indirect calls per iteration (baselines) */
} sync_case;

typedef void (*loop_fn)(const sync_case *c, long iters);

static void loop_indirect(const sync_case *c, long iters)
{
    hive_event ev = { NULL, 1, "bench", c->f, c->n };
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < c->calls; k++) indirect(&ev, &counter);
}

static void loop_publish(const sync_case *c, long iters)
{
    for (long i = 0; i < iters; i++) hive_bus_publish(c->bus, c->id, c->f, c->n);
}

static void loop_publish_name(const sync_case *c, long iters)
{
    for (long i = 0; i < iters; i++) hive_bus_publish_name(c->bus, c->name, c->f, c->n);
}

/* This thread's CPU time: on a shared machine, time spent descheduled
 * does not count against the code being measured. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Iterations for about 2 ms of fn: short runs, many rounds. */
static long calibrate(loop_fn fn, const sync_case *c)
{
    long iters = 1000;
    for (;;) {
        uint64_t t0 = cpu_ns();
        fn(c, iters);
        uint64_t dt = cpu_ns() - t0;
        if (dt > 1000000) return (long)((double)iters * 2e6 / (double)dt) + 1;
        iters *= 4;
    }
}

static double run_once(loop_fn fn, const sync_case *c, long iters)
{
    uint64_t t0 = cpu_ns();
    fn(c, iters);
    return (double)(cpu_ns() - t0) / (double)iters;
}

/* ns per iteration of fn and of its baseline, each the best of ROUNDS
 * short runs taken in alternation, so both see the same machine load. */
static void time_pair(loop_fn fn, const sync_case *c, loop_fn bfn, const sync_case *bc,
                      double *ns, double *base_ns)
{
    long it = calibrate(fn, c), bit = calibrate(bfn, bc);
    *ns = *base_ns = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double a = run_once(fn, c, it), b = run_once(bfn, bc, bit);
        if (a < *ns) *ns = a;
        if (b < *base_ns) *base_ns = b;
    }
}

static hive_bus *bus_with_subs(int nsubs, const char *pattern, hive_event_id *id)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 16 });
    if (!bus) {
        fprintf(stderr, "bench-bus: cannot create bus\n");
        exit(1);
    }
    *id = hive_bus_intern(bus, "bench:game.tick");
    for (int i = 0; i < nsubs; i++) hive_bus_subscribe_id(bus, *id, handler, &counter, NULL);
    if (pattern) hive_bus_subscribe(bus, pattern, handler, &counter, NULL);
    return bus;
}

static void bench_sync(void)
{
    hive_field f[] = { HIVE_INT("cid", 7) };
    sync_case base1 = { .f = f, .n = 1, .calls = 1 };
    sync_case base10 = { .f = f, .n = 1, .calls = 10 };
    sync_case base100 = { .f = f, .n = 1, .calls = 100 };
    double ind1, ind10, ind100, dummy;
    time_pair(loop_indirect, &base1, loop_indirect, &base1, &ind1, &dummy);
    time_pair(loop_indirect, &base10, loop_indirect, &base10, &ind10, &dummy);
    time_pair(loop_indirect, &base100, loop_indirect, &base100, &ind100, &dummy);
    emit("indirect_call", ind1, "ns");
    emit("indirect_call_x10", ind10, "ns");
    emit("indirect_call_x100", ind100, "ns");

    static const struct { const char *name; int subs; const char *baseline; } exact[] = {
        { "publish_0sub", 0, "indirect_call" },
        { "publish_1sub", 1, "indirect_call" },
        { "publish_10sub", 10, "indirect_call_x10" },
        { "publish_100sub", 100, "indirect_call_x100" },
    };
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        sync_case c = { .f = f, .n = 1 };
        c.bus = bus_with_subs(exact[i].subs, NULL, &c.id);
        const sync_case *bc = exact[i].subs == 100 ? &base100 : exact[i].subs == 10 ? &base10 : &base1;
        double ns, b;
        time_pair(loop_publish, &c, loop_indirect, bc, &ns, &b);
        emit(exact[i].name, ns, "ns");
        emit_ratio(exact[i].name, ns, exact[i].baseline, b);
        hive_bus_destroy(c.bus);
    }

    sync_case p = { .f = f, .n = 1, .name = "bench:game.tick" };
    p.bus = bus_with_subs(0, "bench:*.tick", &p.id);
    double ns, b;
    time_pair(loop_publish, &p, loop_indirect, &base1, &ns, &b);
    emit("publish_pattern_1sub", ns, "ns");
    emit_ratio("publish_pattern_1sub", ns, "indirect_call", b);
    time_pair(loop_publish_name, &p, loop_indirect, &base1, &ns, &b);
    emit("publish_by_name_1sub", ns, "ns");
    emit_ratio("publish_by_name_1sub", ns, "indirect_call", b);
    hive_bus_destroy(p.bus);
}

/* ---- cross-thread ----------------------------------------------------- */

typedef struct producer {
    hive_bus *bus;
    hive_event_id id;
    long n;
    atomic_int *go;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    while (!atomic_load_explicit(p->go, memory_order_acquire)) {}
    for (long i = 0; i < p->n; i++) {
        hive_field f[] = { HIVE_INT("seq", i) };
        if (hive_bus_post(p->bus, p->id, f, 1) != HIVE_OK) {
            fprintf(stderr, "bench-bus: post failed\n");
            exit(1);
        }
    }
    return NULL;
}

/* Events per second, producers -> owner thread, BLOCK policy (no loss). */
static double cross_thread(int nprod, long total)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 65536,
                                                        .overflow = HIVE_OVERFLOW_BLOCK });
    hive_event_id id = hive_bus_intern(bus, "bench:net.recv");
    uint64_t got = 0;
    hive_bus_subscribe_id(bus, id, handler, &got, NULL);
    atomic_int go = 0;
    producer p[2];
    pthread_t th[2];
    for (int i = 0; i < nprod; i++) {
        p[i] = (producer){ bus, id, total / nprod, &go };
        pthread_create(&th[i], NULL, produce, &p[i]);
    }
    uint64_t t0 = hive_now_ns();
    atomic_store_explicit(&go, 1, memory_order_release);
    /* Like a game loop with nothing to do, give the core away when the
     * queue is empty: on a busy machine spinning here starves producers. */
    while (got < (uint64_t)(total / nprod * nprod))
        if (hive_bus_dispatch(bus, 0) == 0) sched_yield();
    double secs = (double)(hive_now_ns() - t0) / 1e9;
    for (int i = 0; i < nprod; i++) pthread_join(th[i], NULL);
    hive_bus_destroy(bus);
    return (double)got / secs;
}

static void bench_threads(void)
{
    const long total = 4000000;
    double best1 = 0, best2 = 0;
    for (int r = 0; r < 3; r++) {
        double a = cross_thread(1, total), b = cross_thread(2, total);
        if (a > best1) best1 = a;
        if (b > best2) best2 = b;
    }
    emit("post_dispatch_1p1c", best1, "events/s");
    emit("post_dispatch_2p1c", best2, "events/s");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t t0 = hive_now_ns();
    bench_sync();
    bench_threads();
    emit("bench_bus_runtime", (double)(hive_now_ns() - t0) / 1e9, "s");
    if (counter == 0) return 1; /* keeps the handler's work observable */
    return 0;
}
