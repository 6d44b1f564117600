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
 * dispatched by the owner thread, each event with one int field, with a
 * batching and an eager owner loop (see consume()).
 * Every figure is printed as the median of RUNS runs, with the smallest
 * and largest run beside it, so that one noisy run cannot pass for the
 * typical one:
 *
 *   hive-bench publish_1sub value=<median> unit=ns min=<a> max=<b> runs=<k>
 *   hive-bench publish_1sub ratio=<median> vs=indirect_call min=<a> max=<b> runs=<k>
 *
 * One synchronous run is the best of ROUNDS short rounds of thread CPU
 * time; a ratio is taken within each run from two figures measured in
 * alternation (so both saw the same machine), and its median is printed.
 * One cross-thread run is the wall time of EVENTS events.
 *
 *   bin/Release/bench-bus [substring]   only the figures whose name holds it
 */
#include "hive/bus.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 21   /* short rounds per synchronous run; a run keeps the best */
#define RUNS   7    /* runs per figure: median, min and max are printed */
#define EVENTS 4000000L /* events per cross-thread run */

static const char *only; /* argv[1]: run only the figures whose name holds it */

static bool wanted(const char *name)
{
    return !only || strstr(name, only) != NULL;
}

/* The work every handler does, bus or baseline. */
static void handler(const hive_event *ev, void *user)
{
    (void)ev;
    (*(uint64_t *)user)++;
}

static void (*volatile indirect)(const hive_event *, void *) = handler;

static uint64_t counter;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min and max of k runs (sorts v). An even k takes the mean of the
 * middle two. */
typedef struct spread {
    double med, min, max;
    int k;
} spread;

static spread spread_of(double *v, int k)
{
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    double med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    return (spread){ med, v[0], v[k - 1], k };
}

static void emit(const char *name, spread s, const char *unit)
{
    printf("hive-bench %s value=%.3f unit=%s min=%.3f max=%.3f runs=%d\n",
           name, s.med, unit, s.min, s.max, s.k);
}

static void emit_ratio(const char *name, spread s, const char *base)
{
    printf("hive-bench %s ratio=%.3f vs=%s min=%.3f max=%.3f runs=%d\n",
           name, s.med, base, s.min, s.max, s.k);
}

/* The process's one-line runtime figure: a single measurement. */
static void emit_one(const char *name, double value, const char *unit)
{
    printf("hive-bench %s value=%.3f unit=%s\n", name, value, unit);
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

/* RUNS runs of fn against its baseline: the figure, the baseline and
 * their ratio, each with its spread. */
static void measure(loop_fn fn, const sync_case *c, loop_fn bfn, const sync_case *bc,
                    spread *ns, spread *base_ns, spread *ratio)
{
    double a[RUNS], b[RUNS], r[RUNS];
    for (int i = 0; i < RUNS; i++) {
        time_pair(fn, c, bfn, bc, &a[i], &b[i]);
        r[i] = a[i] / b[i];
    }
    *ns = spread_of(a, RUNS);
    *base_ns = spread_of(b, RUNS);
    *ratio = spread_of(r, RUNS);
}

static void bench_sync(void)
{
    hive_field f[] = { HIVE_INT("cid", 7) };
    sync_case base1 = { .f = f, .n = 1, .calls = 1 };
    sync_case base10 = { .f = f, .n = 1, .calls = 10 };
    sync_case base100 = { .f = f, .n = 1, .calls = 100 };
    const struct { const char *name; const sync_case *c; } bases[] = {
        { "indirect_call", &base1 },
        { "indirect_call_x10", &base10 },
        { "indirect_call_x100", &base100 },
    };
    for (size_t i = 0; i < sizeof bases / sizeof *bases; i++) {
        if (!wanted(bases[i].name)) continue;
        spread ns, dummy, r;
        measure(loop_indirect, bases[i].c, loop_indirect, bases[i].c, &ns, &dummy, &r);
        emit(bases[i].name, ns, "ns");
    }

    static const struct { const char *name; int subs; const char *baseline; } exact[] = {
        { "publish_0sub", 0, "indirect_call" },
        { "publish_1sub", 1, "indirect_call" },
        { "publish_10sub", 10, "indirect_call_x10" },
        { "publish_100sub", 100, "indirect_call_x100" },
    };
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        if (!wanted(exact[i].name)) continue;
        sync_case c = { .f = f, .n = 1 };
        c.bus = bus_with_subs(exact[i].subs, NULL, &c.id);
        const sync_case *bc = exact[i].subs == 100 ? &base100 : exact[i].subs == 10 ? &base10 : &base1;
        spread ns, b, r;
        measure(loop_publish, &c, loop_indirect, bc, &ns, &b, &r);
        emit(exact[i].name, ns, "ns");
        emit_ratio(exact[i].name, r, exact[i].baseline);
        hive_bus_destroy(c.bus);
    }

    sync_case p = { .f = f, .n = 1, .name = "bench:game.tick" };
    p.bus = bus_with_subs(0, "bench:*.tick", &p.id);
    spread ns, b, r;
    if (wanted("publish_pattern_1sub")) {
        measure(loop_publish, &p, loop_indirect, &base1, &ns, &b, &r);
        emit("publish_pattern_1sub", ns, "ns");
        emit_ratio("publish_pattern_1sub", r, "indirect_call");
    }
    if (wanted("publish_by_name_1sub")) {
        measure(loop_publish_name, &p, loop_indirect, &base1, &ns, &b, &r);
        emit("publish_by_name_1sub", ns, "ns");
        emit_ratio("publish_by_name_1sub", r, "indirect_call");
    }
    hive_bus_destroy(p.bus);
}

/* ---- cross-thread ----------------------------------------------------- */

typedef struct producer {
    hive_bus *bus;
    hive_event_id id;
    long n;
    int *go;
} producer;

static void *produce(void *arg)
{
    /* A copy on this thread's stack: the loop reloads its fields after each
     * call, and the originals share a cache line with the consumer's
     * counter, which it writes for every event. */
    const producer p = *(const producer *)arg;
    while (!__atomic_load_n(p.go, __ATOMIC_ACQUIRE)) {}
    for (long i = 0; i < p.n; i++) {
        hive_field f[] = { HIVE_INT("seq", i) };
        if (hive_bus_post(p.bus, p.id, f, 1) != HIVE_OK) {
            fprintf(stderr, "bench-bus: post failed\n");
            exit(1);
        }
    }
    return NULL;
}

/* The owner thread's loop. Batched (the figures without a suffix): dispatch
 * what is queued, and when that was only a few events, give the core away
 * for a few microseconds before looking again, as a game loop does between
 * frames, so that events are taken in batches. Eager (_eager): look again
 * at once, yielding only when the queue was empty. An eager consumer takes
 * each event the moment it is written, so producer and consumer hand the
 * same cache lines (the slot, the tail index) back and forth for every
 * event and both run at a fraction of their speed. */
#define QUEUE_CAP  65536
#define FEW_EVENTS 32
#define PAUSE_NS   5000

static void consume(hive_bus *bus, const uint64_t *got, uint64_t want, bool batched)
{
    while (*got < want) {
        int n = hive_bus_dispatch(bus, 0);
        if (n == 0 || (batched && n < FEW_EVENTS)) {
            uint64_t t0 = hive_now_ns();
            do sched_yield(); /* on a busy machine the producers need this core */
            while (batched && hive_now_ns() - t0 < PAUSE_NS);
        }
    }
}

/* Events per second, producers -> owner thread, BLOCK policy (no loss). */
static double cross_thread(int nprod, long total, bool batched)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = QUEUE_CAP,
                                                        .overflow = HIVE_OVERFLOW_BLOCK });
    hive_event_id id = hive_bus_intern(bus, "bench:net.recv");
    /* The handler's counter on a line of its own. */
    static _Alignas(64) uint64_t counters[16];
    uint64_t *got = &counters[8];
    hive_bus_subscribe_id(bus, id, handler, got, NULL);
    /* One lap of the ring first: a new bus's slots are untouched memory,
     * and the first lap's page faults are a cost of creating the bus, not
     * of moving events. */
    for (int i = 0; i < QUEUE_CAP; i++) hive_bus_post(bus, id, NULL, 0);
    hive_bus_dispatch(bus, 0);
    *got = 0;
    int go = 0;
    producer p[2];
    pthread_t th[2];
    for (int i = 0; i < nprod; i++) {
        p[i] = (producer){ bus, id, total / nprod, &go };
        pthread_create(&th[i], NULL, produce, &p[i]);
    }
    uint64_t t0 = hive_now_ns();
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    consume(bus, got, (uint64_t)(total / nprod * nprod), batched);
    double secs = (double)(hive_now_ns() - t0) / 1e9;
    for (int i = 0; i < nprod; i++) pthread_join(th[i], NULL);
    hive_bus_destroy(bus);
    return (double)*got / secs;
}

/* All cases in alternation, run after run, so all see the same machine. */
static void bench_threads(void)
{
    static const struct { const char *name; int nprod; bool batched; } cases[] = {
        { "post_dispatch_1p1c", 1, true },
        { "post_dispatch_2p1c", 2, true },
        { "post_dispatch_1p1c_eager", 1, false },
        { "post_dispatch_2p1c_eager", 2, false },
    };
    enum { NCASES = sizeof cases / sizeof *cases };
    double v[NCASES][RUNS];
    bool on[NCASES];
    for (int c = 0; c < NCASES; c++) on[c] = wanted(cases[c].name);
    for (int r = 0; r < RUNS; r++)
        for (int c = 0; c < NCASES; c++)
            if (on[c]) v[c][r] = cross_thread(cases[c].nprod, EVENTS, cases[c].batched);
    for (int c = 0; c < NCASES; c++)
        if (on[c]) emit(cases[c].name, spread_of(v[c], RUNS), "events/s");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) only = argv[1];
    uint64_t t0 = hive_now_ns();
    bench_sync();
    bench_threads();
    emit_one("bench_bus_runtime", (double)(hive_now_ns() - t0) / 1e9, "s");
    if (counter == 0 && !only) return 1; /* keeps the handler's work observable */
    return 0;
}
