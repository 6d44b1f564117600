/* Cross-thread posting: several producers, one dispatching owner. Every
 * event carries (producer, sequence number); the consumer checks nothing
 * is lost, duplicated or reordered per producer, under each policy. */
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define MAXP 4

typedef struct rx {
    int64_t last[MAXP];
    long count[MAXP];
    long bad_order, bad_gap, bad_payload;
} rx;

typedef struct prod {
    hive_bus *bus;
    hive_event_id id;
    int p, n;
    bool strings;       /* add a string of varying length (some spill) */
    long ok, efull, other;
    atomic_int *done;
} prod;

static size_t str_len_for(int p, int64_t seq) { return (size_t)((seq * 7 + p * 13) % 180); }

static void fill(char *buf, int p, int64_t seq)
{
    size_t n = str_len_for(p, seq);
    for (size_t i = 0; i < n; i++) buf[i] = (char)('a' + (seq + (int64_t)i + p) % 26);
    buf[n] = '\0';
}

static void *produce(void *arg)
{
    prod *pr = arg;
    char buf[200];
    for (int i = 0; i < pr->n; i++) {
        hive_field f[3] = { HIVE_INT("p", pr->p), HIVE_INT("seq", i) };
        size_t nf = 2;
        if (pr->strings) {
            fill(buf, pr->p, i);
            f[nf++] = HIVE_STR("s", buf);
        }
        int rc = hive_bus_post(pr->bus, pr->id, f, nf);
        if (rc == HIVE_OK) pr->ok++;
        else if (rc == HIVE_EFULL) pr->efull++;
        else pr->other++;
    }
    atomic_fetch_add(pr->done, 1);
    return NULL;
}

static void receive(const hive_event *ev, void *user)
{
    rx *r = user;
    int64_t p = hive_event_int(ev, "p", -1), seq = hive_event_int(ev, "seq", -1);
    if (p < 0 || p >= MAXP || seq < 0) {
        r->bad_payload++;
        return;
    }
    if (seq <= r->last[p]) r->bad_order++;
    if (seq != r->last[p] + 1) r->bad_gap++;
    r->last[p] = seq;
    r->count[p]++;
    const char *s = hive_event_str(ev, "s");
    if (s) {
        char want[200];
        fill(want, (int)p, seq);
        if (strcmp(s, want) != 0) r->bad_payload++;
    }
}

/* Run np producers of n events each against a bus; dispatch until all
 * producers finished and the queue is empty. */
static void run(hive_bus *bus, rx *r, prod *pr, int np, int n, bool strings)
{
    hive_event_id id = hive_bus_intern(bus, "t:event");
    cr_assert_gt(hive_bus_subscribe_id(bus, id, receive, r, NULL), 0);
    for (int p = 0; p < MAXP; p++) r->last[p] = -1;
    atomic_int done = 0;
    pthread_t th[MAXP];
    for (int p = 0; p < np; p++) {
        pr[p] = (prod){ .bus = bus, .id = id, .p = p, .n = n, .strings = strings, .done = &done };
        cr_assert_eq(pthread_create(&th[p], NULL, produce, &pr[p]), 0);
    }
    uint64_t deadline = hive_now_ns() + 50ull * 1000000000ull;
    for (;;) {
        bool finished = atomic_load(&done) == np;
        int got = hive_bus_dispatch(bus, 0);
        cr_assert_geq(got, 0);
        if (got == 0) {
            if (finished) {
                hive_bus_counters c;
                hive_bus_stats(bus, &c);
                if (c.queued == 0) break;
            }
            nanosleep(&(struct timespec){ 0, 20000 }, NULL);
        }
        cr_assert_lt(hive_now_ns(), deadline, "consumer gave up");
    }
    for (int p = 0; p < np; p++) pthread_join(th[p], NULL);
    cr_expect_eq(r->bad_order, 0);
    cr_expect_eq(r->bad_payload, 0);
    for (int p = 0; p < np; p++) cr_expect_eq(pr[p].other, 0);
}

Test(threads, two_producers_block_lose_nothing, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 64,
                                                        .overflow = HIVE_OVERFLOW_BLOCK });
    rx r = { 0 };
    prod pr[2];
    run(bus, &r, pr, 2, 40000, false);
    for (int p = 0; p < 2; p++) {
        cr_expect_eq(pr[p].ok, 40000);
        cr_expect_eq(r.count[p], 40000, "producer %d", p);
    }
    cr_expect_eq(r.bad_gap, 0, "no gap: nothing lost, nothing twice");
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.dropped, 0);
    cr_expect_eq(c.posted, 80000);
    cr_expect_eq(c.dispatched, 80000);
    hive_bus_destroy(bus);
}

Test(threads, three_producers_block_tiny_queue_with_strings, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 4,
                                                        .overflow = HIVE_OVERFLOW_BLOCK });
    rx r = { 0 };
    prod pr[3];
    run(bus, &r, pr, 3, 8000, true);
    for (int p = 0; p < 3; p++) cr_expect_eq(r.count[p], 8000, "producer %d", p);
    cr_expect_eq(r.bad_gap, 0);
    hive_bus_destroy(bus);
}

Test(threads, four_producers_drop_newest, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 128 });
    rx r = { 0 };
    prod pr[4];
    run(bus, &r, pr, 4, 20000, true);
    long efull = 0, received = 0;
    for (int p = 0; p < 4; p++) {
        /* Each event either arrived or its post said EFULL. */
        cr_expect_eq(r.count[p] + pr[p].efull, 20000, "producer %d", p);
        cr_expect_eq(r.count[p], pr[p].ok);
        efull += pr[p].efull;
        received += r.count[p];
    }
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.dropped, (uint64_t)efull);
    cr_expect_eq(c.posted, (uint64_t)received);
    cr_expect_eq(c.dispatched, (uint64_t)received);
    hive_bus_destroy(bus);
}

Test(threads, three_producers_drop_oldest, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = 64,
                                                        .overflow = HIVE_OVERFLOW_DROP_OLDEST });
    rx r = { 0 };
    prod pr[3];
    run(bus, &r, pr, 3, 20000, true);
    long received = 0;
    for (int p = 0; p < 3; p++) {
        cr_expect_eq(pr[p].ok, 20000, "post always succeeds under DROP_OLDEST");
        received += r.count[p];
    }
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.posted, 60000);
    cr_expect_eq((long)c.dropped + received, 60000, "every event dispatched or counted dropped");
    cr_expect_eq(c.dispatched, (uint64_t)received);
    hive_bus_destroy(bus);
}
