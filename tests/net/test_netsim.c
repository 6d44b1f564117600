/*
 * The network simulator (net/transport/netsim.c): the spec's parser, each
 * impairment measured on a socket-free fake transport (what the wrapped
 * transport is handed, what the core is given), determinism by seed,
 * cuts, and the simulator under a real server and client.
 */
#include "net_test.h"
#include "net/transport/netsim.h"

#include <time.h>

/* ------------------------------------------------------------------ */
/* The spec                                                             */
/* ------------------------------------------------------------------ */

Test(netsim, parses_every_key)
{
    hive__netsim_spec s;
    char err[200];
    cr_assert_eq(hive__netsim_parse(" latency=100ms, jitter=1.5s ,loss=5%,dup=0.5%,reorder=2%,"
                                    "bandwidth=256kbps,cut_every=10s,seed=7,dir=send", &s, err, sizeof err),
                 HIVE_OK, "%s", err);
    cr_expect(s.on);
    cr_expect_eq(s.latency_ms, 100);
    cr_expect_eq(s.jitter_ms, 1500);
    cr_expect_eq(s.loss_ppm, 50000);
    cr_expect_eq(s.dup_ppm, 5000);
    cr_expect_eq(s.reorder_ppm, 20000);
    cr_expect_eq(s.bytes_per_sec, 32000);
    cr_expect_eq(s.cut_every_ms, 10000);
    cr_expect_eq(s.seed, 7);
    cr_expect(s.send && !s.recv);
    cr_assert_eq(hive__netsim_parse("bandwidth=2mbps,dir=recv,latency=0", &s, err, sizeof err), HIVE_OK, "%s", err);
    cr_expect_eq(s.bytes_per_sec, 250000);
    cr_expect(!s.send && s.recv);
    cr_expect_eq(s.seed, 1, "the default seed is fixed: runs repeat");
}

Test(netsim, off_means_no_simulator)
{
    hive__netsim_spec s;
    const char *off[] = { NULL, "", "  ", "off", "none", "OFF" };
    for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
        cr_assert_eq(hive__netsim_parse(off[i], &s, NULL, 0), HIVE_OK);
        cr_expect(!s.on, "%s", off[i] ? off[i] : "NULL");
    }
}

Test(netsim, bad_specs_name_the_key)
{
    static const struct { const char *spec, *want; } bad[] = {
        { "latency=100", "latency=100: the unit must be ms or s" },
        { "latency=fast", "latency=fast" },
        { "latency=61s", "at most 60s" },
        { "loss=5", "loss=5" },
        { "loss=101%", "at most 100%" },
        { "dup=x%", "dup=x%" },
        { "bandwidth=100", "bandwidth=100" },
        { "bandwidth=1kbps", "at least 8000bps" },
        { "cut_every=50ms", "cut_every=50ms: at least 100ms" },
        { "seed=-1", "seed=-1" },
        { "dir=up", "dir=up" },
        { "latency=10ms,lag=5ms", "unknown key 'lag'" },
        { "latency", "'latency' is not key=value" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hive__netsim_spec s;
        char err[200] = "";
        cr_expect_eq(hive__netsim_parse(bad[i].spec, &s, err, sizeof err), HIVE_EINVAL, "%s", bad[i].spec);
        cr_expect(strstr(err, bad[i].want) != NULL, "%s: got \"%s\", wanted \"%s\"", bad[i].spec, err, bad[i].want);
    }
}

Test(netsim, create_refuses_a_bad_spec_and_reads_back_a_good_one)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_client_config cc = { .netsim = "latency=10ms,jiter=5ms" };
    cr_expect_null(hive_client_create(&cc, bus));
    const hive_create_error_info *e = hive_create_error();
    cr_expect_str_eq(e->field, "netsim");
    cr_expect(strstr(e->message, "hive_client_config.netsim") && strstr(e->message, "unknown key 'jiter'"), "%s",
              e->message);
    hive_server_config sc = { .netsim = "loss=200%" };
    cr_expect_null(hive_server_create(&sc, bus));
    cr_expect_str_eq(hive_create_error()->field, "netsim");

    char spec[] = "latency=10ms";
    cc.netsim = spec;
    hive_client *c = hive_client_create(&cc, bus);
    cr_assert_not_null(c);
    spec[0] = 'X';   /* copied */
    hive_client_config got;
    cr_assert_eq(hive_client_config_get(c, &got), HIVE_OK);
    cr_expect_str_eq(got.netsim, "latency=10ms");
    hive_client_destroy(c);
    hive_bus_destroy(bus);
}

Test(netsim, the_environment_applies_when_the_config_is_silent)
{
    hive_bus *bus = hive_bus_create(NULL);
    setenv("HIVE_NETSIM", "latency=25ms,seed=3", 1);
    hive_server *s = hive_server_create(NULL, bus);
    cr_assert_not_null(s);
    hive_server_config got;
    cr_assert_eq(hive_server_config_get(s, &got), HIVE_OK);
    cr_expect_str_eq(got.netsim, "latency=25ms,seed=3");
    hive_server_destroy(s);

    hive_server_config off = { .netsim = "off" };   /* the config wins */
    s = hive_server_create(&off, bus);
    cr_assert_not_null(s);
    cr_assert_eq(hive_server_config_get(s, &got), HIVE_OK);
    cr_expect_null(got.netsim);
    hive_server_destroy(s);

    setenv("HIVE_NETSIM", "latency=25", 1);
    cr_expect_null(hive_server_create(NULL, bus));
    cr_expect(strstr(hive_create_error()->message, "HIVE_NETSIM") != NULL, "%s", hive_create_error()->message);
    cr_expect_str_eq(hive_create_error()->field, "netsim");
    unsetenv("HIVE_NETSIM");
    hive_bus_destroy(bus);
}

/* ------------------------------------------------------------------ */
/* A fake transport under the simulator                                 */
/* ------------------------------------------------------------------ */

#define FK_MAX 20000

typedef struct fk_rec { uint32_t id; size_t n; bool reliable; uint64_t at_us; int dlv; } fk_rec;

typedef struct fk_in { uint8_t data[2048]; size_t n; int channel; } fk_in;

typedef struct fake {
    hive__transport base;
    hive__link link;
    bool made, connect_pending, close_pending, aborted, drop_pending;
    int closed_after;             /* items handed over before ->close */
    fk_rec sent[FK_MAX];
    int nsent;
    fk_in *in;
    int nin;
} fake;

static fake *g_fake;

static uint64_t us(void) { return hive_now_ns() / 1000u; }

static int fk_listen(hive__transport *t, const hive__addr *a) { (void)t; (void)a; return HIVE_OK; }
static int fk_connect(hive__transport *t, const hive__addr *a, hive__link **out)
{
    (void)a;
    fake *f = (fake *)t;
    f->made = f->connect_pending = true;
    *out = &f->link;
    return HIVE_OK;
}
static int fk_service(hive__transport *t, int timeout_ms)
{
    fake *f = (fake *)t;
    int n = 0;
    if (f->connect_pending) {
        f->connect_pending = false;
        f->base.cb.connected(f->base.cb.core, &f->link);
        n++;
    }
    for (int i = 0; i < f->nin && !f->aborted; i++, n++)
        f->base.cb.data(f->base.cb.core, &f->link, f->in[i].data, f->in[i].n, f->in[i].channel);
    f->nin = 0;
    if (f->drop_pending && !f->aborted) {
        f->drop_pending = false;
        f->aborted = true;
        f->base.cb.disconnected(f->base.cb.core, &f->link, HIVE_CLOSE_PEER_VANISHED, "fake: gone");
        n++;
    }
    if (f->close_pending && !f->aborted) {
        f->close_pending = false;
        f->aborted = true;
        f->base.cb.disconnected(f->base.cb.core, &f->link, HIVE_CLOSE_NORMAL, NULL);
        n++;
    }
    if (!n && timeout_ms > 0) {
        struct timespec ts = { 0, (long)(timeout_ms > 2 ? 2 : timeout_ms) * 1000000L };
        nanosleep(&ts, NULL);
    }
    return n;
}
static int fk_send(hive__transport *t, hive__link *l, const void *const *p, const size_t *lens, int np,
                   int dlv)
{
    (void)l;
    fake *f = (fake *)t;
    cr_assert(!f->aborted, "send after abort");
    cr_assert_eq(np, 1);
    cr_assert_lt(f->nsent, FK_MAX);
    uint32_t id;
    memcpy(&id, p[0], 4);
    f->sent[f->nsent++] = (fk_rec){ id, lens[0], dlv == HIVE__DLV_RELIABLE, us(), dlv };
    return HIVE_OK;
}
static void fk_flush(hive__transport *t) { (void)t; }
static void fk_close(hive__transport *t, hive__link *l, uint32_t code)
{
    (void)l; (void)code;
    fake *f = (fake *)t;
    f->close_pending = true;
    f->closed_after = f->nsent;
}
static void fk_abort(hive__transport *t, hive__link *l) { (void)l; ((fake *)t)->aborted = true; }
static void fk_wake(hive__transport *t) { (void)t; }
static uint16_t fk_port(hive__transport *t) { (void)t; return 1; }
static int fk_rtt(hive__transport *t, hive__link *l) { (void)t; (void)l; return -1; }
static void fk_destroy(hive__transport *t)
{
    fake *f = (fake *)t;
    free(f->in);
    free(f);
    g_fake = NULL;
}

static const hive__transport_vt fk_vt = {
    .scheme = "simfake", .stream = false,
    .listen = fk_listen, .connect = fk_connect, .service = fk_service, .send = fk_send,
    .flush = fk_flush, .close = fk_close, .abort = fk_abort, .wake = fk_wake,
    .bound_port = fk_port, .rtt_ms = fk_rtt, .destroy = fk_destroy,
};
static bool g_fake_stream;
static hive__transport_vt fk_vt_stream;

static int fk_create(const hive__transport_cb *cb, const hive__transport_opts *o, hive__transport **out)
{
    (void)o;
    fake *f = calloc(1, sizeof *f);
    f->in = calloc(FK_MAX, sizeof *f->in);
    fk_vt_stream = fk_vt;
    fk_vt_stream.stream = true;
    f->base.vt = g_fake_stream ? &fk_vt_stream : &fk_vt;
    f->base.cb = *cb;
    g_fake = f;
    *out = &f->base;
    return HIVE_OK;
}

/* What the core side (this test) was given. */
typedef struct got {
    fk_rec data[FK_MAX];
    int n;
    bool connected, gone;
    int reason;
    char message[100];
    int data_after_gone;
} got;

static int g_accepted(void *core, hive__link *l, const char *a) { (void)core; (void)l; (void)a; return 0; }
static void g_connected(void *core, hive__link *l) { (void)l; ((got *)core)->connected = true; }
static void g_data(void *core, hive__link *l, const uint8_t *p, size_t n, int ch)
{
    (void)l;
    got *g = core;
    if (g->gone) g->data_after_gone++;
    cr_assert_lt(g->n, FK_MAX);
    uint32_t id;
    memcpy(&id, p, 4);
    g->data[g->n++] = (fk_rec){ id, n, ch == HIVE__CHANNEL_RELIABLE, us() };
}
static void g_disconnected(void *core, hive__link *l, int reason, const char *m)
{
    (void)l;
    got *g = core;
    g->gone = true;
    g->reason = reason;
    snprintf(g->message, sizeof g->message, "%s", m ? m : "");
}

typedef struct sim { hive__transport *t; hive__link *l; got *g; } sim;

static sim sim_open(const char *spec_text, bool stream)
{
    hive__netsim_spec spec;
    char err[200];
    cr_assert_eq(hive__netsim_parse(spec_text, &spec, err, sizeof err), HIVE_OK, "%s", err);
    g_fake_stream = stream;
    hive__transport_set_test("simfake", fk_create);
    hive__addr a;
    cr_assert_eq(hive__addr_parse("simfake://x:1", 1, &a), HIVE_OK);
    sim s = { .g = calloc(1, sizeof(got)) };
    hive__transport_cb cb = { .core = s.g, .accepted = g_accepted, .connected = g_connected,
                              .data = g_data, .disconnected = g_disconnected };
    hive__transport_opts o = { 0 };
    cr_assert_eq(hive__netsim_create(&spec, &a, &cb, &o, &s.t), HIVE_OK);
    cr_assert_eq(s.t->vt->stream, stream, "the simulator keeps the wrapped transport's kind");
    cr_assert_eq(s.t->vt->connect(s.t, &a, &s.l), HIVE_OK);
    for (int i = 0; i < 10 && !s.g->connected; i++) s.t->vt->service(s.t, 1);
    cr_assert(s.g->connected);
    return s;
}

static void sim_close(sim *s)
{
    s->t->vt->destroy(s->t);
    free(s->g);
    hive__transport_set_test(NULL, NULL);
}

/* Runs the simulator for ms milliseconds. */
static void sim_run(sim *s, int ms)
{
    uint64_t end = us() + (uint64_t)ms * 1000u;
    while (us() < end) s->t->vt->service(s->t, 5);
}

static void sim_send(sim *s, uint32_t id, size_t n, bool reliable)
{
    uint8_t buf[4096] = { 0 };
    cr_assert_leq(n, sizeof buf);
    memcpy(buf, &id, 4);
    const void *p = buf;
    cr_assert_eq(s->t->vt->send(s->t, s->l, &p, &n, 1, reliable), HIVE_OK);
}

/* Queues a datagram for the fake to deliver at its next service. */
static void sim_inject(sim *s, uint32_t id, size_t n, int channel)
{
    fake *f = g_fake;
    cr_assert_lt(f->nin, FK_MAX);
    memset(f->in[f->nin].data, 0, n);
    memcpy(f->in[f->nin].data, &id, 4);
    f->in[f->nin].n = n;
    f->in[f->nin].channel = channel;
    f->nin++;
    (void)s;
}

static hive__transport_stats sim_stats(sim *s)
{
    hive__transport_stats st;
    cr_assert_eq(s->t->vt->stats(s->t, &st), HIVE_OK);
    return st;
}

/* Which ids the fake was handed, as a count per id (0..n-1). */
static void sent_counts(const fake *f, int *counts, int n)
{
    memset(counts, 0, sizeof(int) * (size_t)n);
    for (int i = 0; i < f->nsent; i++)
        if (f->sent[i].id < (uint32_t)n) counts[f->sent[i].id]++;
}

/* Sends n unreliable items through spec and returns the per-id counts. */
static void unreliable_pattern(const char *spec, int n, int *counts)
{
    sim s = sim_open(spec, false);
    for (int i = 0; i < n; i++) sim_send(&s, (uint32_t)i, 32, false);
    sim_run(&s, 120);
    sent_counts(g_fake, counts, n);
    sim_close(&s);
}

Test(netsim, the_same_seed_gives_the_same_sequence, .timeout = 30)
{
    enum { N = 400 };
    static int a[N], b[N], c[N];
    unreliable_pattern("loss=30%,dup=20%,jitter=10ms,seed=42", N, a);
    unreliable_pattern("loss=30%,dup=20%,jitter=10ms,seed=42", N, b);
    unreliable_pattern("loss=30%,dup=20%,jitter=10ms,seed=43", N, c);
    int lost = 0, twice = 0, differ = 0;
    for (int i = 0; i < N; i++) {
        cr_expect_eq(a[i], b[i], "item %d: %d copies, then %d with the same seed", i, a[i], b[i]);
        lost += a[i] == 0;
        twice += a[i] == 2;
        differ += a[i] != c[i];
    }
    cr_expect_gt(lost, 0);
    cr_expect_gt(twice, 0);
    cr_expect_gt(differ, N / 10, "another seed gives another sequence (%d of %d differ)", differ, N);
}

Test(netsim, measured_loss_is_what_was_asked, .timeout = 30)
{
    enum { N = 5000 };
    static int counts[N];
    unreliable_pattern("loss=20%", N, counts);
    int got = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_leq(counts[i], 1, "no copies without dup");
        got += counts[i];
    }
    /* 20 % of 5000: 1000 lost, one standard deviation is 28; 150 is > 5 of them. */
    cr_expect(abs((N - got) - 1000) < 150, "lost %d of %d, wanted about 1000", N - got, N);
}

Test(netsim, latency_and_jitter_are_added, .timeout = 30)
{
    sim s = sim_open("latency=60ms,jitter=20ms", false);
    uint64_t sent_at[50];
    for (int i = 0; i < 50; i++) {
        sent_at[i] = us();
        sim_send(&s, (uint32_t)i, 40, i % 2 == 0);
        s.t->vt->service(s.t, 2);
    }
    sim_run(&s, 300);
    fake *f = g_fake;
    cr_assert_eq(f->nsent, 50);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < f->nsent; i++) {
        uint64_t d = f->sent[i].at_us - sent_at[f->sent[i].id];
        if (d < lo) lo = d;
        if (d > hi) hi = d;
        cr_expect_geq(d, 40000u, "item %u left after %llu us: under latency - jitter", f->sent[i].id,
                      (unsigned long long)d);
    }
    cr_expect_gt(hi - lo, 5000u, "jitter spreads the delays (%llu..%llu us)", (unsigned long long)lo,
                 (unsigned long long)hi);
    /* and on receive */
    uint64_t t0 = us();
    sim_inject(&s, 1000, 40, HIVE__CHANNEL_RELIABLE);
    sim_run(&s, 200);
    cr_assert_eq(s.g->n, 1);
    cr_expect_geq(s.g->data[0].at_us - t0, 40000u);
    sim_close(&s);
}

/* Reliable items: never lost, never twice, never out of order, both ways;
 * loss only delays them. */
static void reliable_survives(bool stream)
{
    sim s = sim_open("loss=50%,dup=50%,reorder=50%,jitter=15ms,latency=5ms", stream);
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        sim_send(&s, (uint32_t)i, 64, true);
        sim_inject(&s, (uint32_t)i, 64, HIVE__CHANNEL_RELIABLE);
        if (i % 50 == 0) s.t->vt->service(s.t, 1);
    }
    for (int i = 0; i < 400 && (g_fake->nsent < N || s.g->n < N); i++) sim_run(&s, 25);
    fake *f = g_fake;
    cr_assert_eq(f->nsent, N, "sent %d of %d", f->nsent, N);
    cr_assert_eq(s.g->n, N, "received %d of %d", s.g->n, N);
    for (int i = 0; i < N; i++) {
        cr_expect_eq(f->sent[i].id, (uint32_t)i, "out: position %d has %u", i, f->sent[i].id);
        cr_expect(f->sent[i].reliable);
        cr_expect_eq(s.g->data[i].id, (uint32_t)i, "in: position %d has %u", i, s.g->data[i].id);
    }
    sim_close(&s);
}

Test(netsim, reliable_items_are_delayed_never_lost_or_reordered, .timeout = 60)
{
    reliable_survives(false);
    reliable_survives(true);
}

Test(netsim, on_a_stream_transport_everything_is_reliable, .timeout = 30)
{
    sim s = sim_open("loss=50%,jitter=10ms", true);
    for (int i = 0; i < 100; i++) sim_send(&s, (uint32_t)i, 16, false);
    for (int i = 0; i < 100 && g_fake->nsent < 100; i++) sim_run(&s, 20);
    cr_assert_eq(g_fake->nsent, 100);
    for (int i = 0; i < 100; i++) cr_expect_eq(g_fake->sent[i].id, (uint32_t)i);
    sim_close(&s);
}

Test(netsim, the_sequenced_channel_stays_sequenced, .timeout = 30)
{
    sim s = sim_open("jitter=30ms,dup=30%,reorder=30%", false);
    enum { N = 600 };
    for (int i = 0; i < N; i++) {
        sim_inject(&s, (uint32_t)i, 32, HIVE__CHANNEL_UNRELIABLE);
        if (i % 20 == 0) s.t->vt->service(s.t, 1);
    }
    sim_run(&s, 300);
    cr_assert_gt(s.g->n, N / 4, "delivered %d", s.g->n);
    cr_assert_lt(s.g->n, N, "some were overtaken or copied, and dropped");
    for (int i = 1; i < s.g->n; i++)
        cr_expect_gt(s.g->data[i].id, s.g->data[i - 1].id, "position %d: %u after %u", i, s.g->data[i].id,
                     s.g->data[i - 1].id);
    hive__transport_stats st = sim_stats(&s);
    cr_expect_gt(st.netsim_duplicated, 0);
    cr_expect_eq(st.netsim_dropped, (uint64_t)(N + st.netsim_duplicated - (uint64_t)s.g->n),
                 "every item not delivered is counted as dropped");
    sim_close(&s);
}

Test(netsim, bandwidth_serializes_the_bytes, .timeout = 30)
{
    sim s = sim_open("bandwidth=800kbps", false);   /* 100,000 bytes a second */
    uint64_t t0 = us();
    for (int i = 0; i < 50; i++) sim_send(&s, (uint32_t)i, 2000, true);
    cr_expect_geq(s.t->vt->queued(s.t, s.l), 90000u, "what waits counts in the send queue");
    for (int i = 0; i < 200 && g_fake->nsent < 50; i++) sim_run(&s, 20);
    cr_assert_eq(g_fake->nsent, 50);
    uint64_t took = g_fake->sent[49].at_us - t0;
    cr_expect_geq(took, 980000u, "100 kB at 100 kB/s left in %llu us", (unsigned long long)took);
    cr_expect_eq(s.t->vt->queued(s.t, s.l), 0u);
    sim_close(&s);
}

Test(netsim, links_are_cut_at_random_moments, .timeout = 30)
{
    sim s = sim_open("cut_every=200ms,latency=50ms", false);
    sim_send(&s, 7, 16, true);   /* in flight when the cut comes, if it comes first */
    for (int i = 0; i < 100 && !s.g->gone; i++) sim_run(&s, 20);
    cr_assert(s.g->gone, "no cut within 2 s");
    cr_expect_eq(s.g->reason, HIVE_CLOSE_PEER_VANISHED);
    cr_expect_str_eq(s.g->message, "netsim: link cut");
    cr_expect(g_fake->aborted, "the wrapped link was dropped without a word");
    cr_expect_eq(sim_stats(&s).netsim_cuts, 1u);
    sim_close(&s);
}

Test(netsim, a_close_waits_for_what_is_queued, .timeout = 30)
{
    sim s = sim_open("latency=80ms", false);
    for (int i = 0; i < 3; i++) sim_send(&s, (uint32_t)i, 16, true);
    s.t->vt->close(s.t, s.l, 0);
    cr_expect(!g_fake->close_pending && !g_fake->aborted, "not closed under the queued frames");
    cr_expect_eq(s.t->vt->send(s.t, s.l, (const void *const[]){ "abcd" }, (const size_t[]){ 4 }, 1, true),
                 HIVE_ECLOSED);
    for (int i = 0; i < 50 && !s.g->gone; i++) sim_run(&s, 10);
    cr_assert(s.g->gone);
    cr_expect_eq(s.g->reason, HIVE_CLOSE_NORMAL);
    cr_expect_eq(g_fake->closed_after, 3, "the close came after the 3 frames");
    sim_close(&s);
}

Test(netsim, what_arrived_before_the_end_is_delivered_first, .timeout = 30)
{
    sim s = sim_open("latency=80ms", false);
    for (int i = 0; i < 3; i++) sim_inject(&s, (uint32_t)i, 16, HIVE__CHANNEL_RELIABLE);
    g_fake->drop_pending = true;
    s.t->vt->service(s.t, 1);
    cr_expect(!s.g->gone);
    for (int i = 0; i < 50 && !s.g->gone; i++) sim_run(&s, 10);
    cr_assert(s.g->gone);
    cr_expect_eq(s.g->n, 3);
    cr_expect_eq(s.g->data_after_gone, 0);
    cr_expect_eq(s.g->reason, HIVE_CLOSE_PEER_VANISHED);
    cr_expect_str_eq(s.g->message, "fake: gone");
    sim_close(&s);
}

Test(netsim, an_aborted_link_is_quiet, .timeout = 30)
{
    sim s = sim_open("latency=50ms", false);
    sim_send(&s, 1, 16, true);
    sim_inject(&s, 2, 16, HIVE__CHANNEL_RELIABLE);
    s.t->vt->service(s.t, 1);
    s.t->vt->abort(s.t, s.l);
    cr_expect(g_fake->aborted);
    sim_run(&s, 150);
    cr_expect_eq(s.g->n, 0);
    cr_expect(!s.g->gone);
    cr_expect_eq(g_fake->nsent, 0);
    sim_close(&s);
}

/* ------------------------------------------------------------------ */
/* Under a real server and client                                       */
/* ------------------------------------------------------------------ */

static bool rtt_samples(void *arg)
{
    hive_conn_stats st;
    return hive_client_conn_stats(arg, &st) == 0 && st.rtt_samples >= 3;
}

static void latency_shows_in_rtt(const char *scheme)
{
    test_scheme = scheme;
    hive_client_config cc = { .netsim = "latency=40ms", .stats_interval_ms = 50 };
    fixture fx;
    fx_init(&fx, NULL, &cc, true);
    cr_assert(pump(fx.srv, fx.cli, 5000, rtt_samples, fx.cli), "%s: no RTT samples", scheme);
    hive_conn_stats st;
    cr_assert_eq(hive_client_conn_stats(fx.cli, &st), 0);
    cr_expect_geq(st.rtt_ms, 79.0, "%s: 40 ms each way, RTT %.1f ms", scheme, st.rtt_ms);
    fx_roundtrip(&fx, "through the simulator");
    fx_fini(&fx);
}

Test(netsim, latency_shows_in_the_measured_rtt, .timeout = 60)
{
    latency_shows_in_rtt("");
    latency_shows_in_rtt("tcp://");
}

static void cut_ends_the_session(const char *scheme)
{
    test_scheme = scheme;
    hive_client_config cc = { .netsim = "cut_every=300ms" };
    hive_server_config sc = { .heartbeat_ms = 100, .heartbeat_timeout_ms = 600 };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    cr_assert(pump_until_event(fx.srv, fx.cli, 5000, fx.cr, HIVE_EV_CLIENT_CLOSE, 1), "%s: no cut", scheme);
    const rec_event *e = rec_find(fx.cr, HIVE_EV_CLIENT_CLOSE);
    cr_expect_str_eq(e->reason_name, "peer_vanished", "%s", scheme);
    cr_expect(pump_until_event(fx.srv, fx.cli, 5000, fx.sr, HIVE_EV_SERVER_CLOSE, 1),
              "%s: the server notices the cut", scheme);
    hive_net_stats st;
    cr_assert_eq(hive_client_stats(fx.cli, &st), 0);
    cr_expect_eq(st.netsim_cuts, 1u, "%s", scheme);
    fx_fini(&fx);
}

Test(netsim, a_cut_reaches_both_ends, .timeout = 60)
{
    cut_ends_the_session("");
    cut_ends_the_session("tcp://");
}

/* hive_conn_stats.loss: the client's link drops 20 % of what it receives;
 * the server streams unreliable frames; the client's estimate (from the
 * counts in the server's pings) comes out near 20 %, the server's own
 * (nothing lost towards it) near 0. Over tcp:// nothing is ever lost. */
static void loss_estimate(const char *scheme, double want)
{
    test_scheme = scheme;
    hive_server_config sc = { .stats_interval_ms = 100 };
    hive_client_config cc = { .netsim = "loss=20%,dir=recv,seed=11" };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    hive_cid cid = hive_client_cid(fx.cli);
    int pid = hive_server_packet_id(fx.srv, "game:echo");
    cr_assert_gt(pid, 0);
    uint8_t body[] = { 0xc0 };   /* msgpack nil */
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (hive_now_ns() < end) {
        for (int i = 0; i < 10; i++) hive_server_send_id(fx.srv, cid, (uint32_t)pid, body, 1, HIVE_SEND_UNRELIABLE);
        hive_server_service(fx.srv, 1);
        hive_client_service(fx.cli, 1);
    }
    hive_conn_stats c, s;
    cr_assert_eq(hive_client_conn_stats(fx.cli, &c), 0);
    cr_assert_eq(hive_server_conn_stats(fx.srv, cid, &s), 0);
    cr_expect(c.loss >= want - 0.08 && c.loss <= want + 0.08, "%s: client loss %.3f, wanted about %.2f", scheme,
              c.loss, want);
    cr_expect_leq(s.loss, 0.02, "%s: server loss %.3f", scheme, s.loss);
    fx_fini(&fx);
}

Test(netsim, the_loss_estimate_sees_what_was_lost, .timeout = 60)
{
    loss_estimate("", 0.20);
    loss_estimate("tcp://", 0.0);
}

/* The unordered kind: overtaken items are delivered, never dropped for
 * being late; second copies are dropped (within the window of 64). */
Test(netsim, unordered_items_arrive_out_of_order_once_each, .timeout = 30)
{
    sim s = sim_open("jitter=20ms,dup=30%,reorder=40%,seed=5", false);
    enum { N = 60 };
    for (int i = 0; i < N; i++) sim_inject(&s, (uint32_t)i, 32, HIVE__CHANNEL_UNORDERED);
    sim_run(&s, 300);
    cr_assert_eq(s.g->n, N, "delivered %d of %d", s.g->n, N);
    bool seen[N] = { false };
    int overtaken = 0;
    for (int i = 0; i < s.g->n; i++) {
        uint32_t id = s.g->data[i].id;
        cr_assert_lt(id, (uint32_t)N);
        cr_expect(!seen[id], "id %u delivered twice", id);
        seen[id] = true;
        if (i && id < s.g->data[i - 1].id) overtaken++;
    }
    cr_expect_gt(overtaken, 0, "reorder=40%% reordered nothing");
    hive__transport_stats st = sim_stats(&s);
    cr_expect_gt(st.netsim_duplicated, 0);
    cr_expect_eq(st.netsim_dropped, st.netsim_duplicated, "only the second copies are dropped");
    sim_close(&s);
}

/* Sending side: an unordered send reaches the wrapped transport as one. */
Test(netsim, unordered_sends_keep_their_kind, .timeout = 30)
{
    sim s = sim_open("latency=1ms", false);
    const void *p = "abcd";
    size_t n = 4;
    cr_assert_eq(s.t->vt->send(s.t, s.l, &p, &n, 1, HIVE__DLV_UNORDERED), HIVE_OK);
    for (int i = 0; i < 50 && g_fake->nsent < 1; i++) sim_run(&s, 5);
    cr_assert_eq(g_fake->nsent, 1);
    cr_expect_eq(g_fake->sent[0].dlv, HIVE__DLV_UNORDERED);
    sim_close(&s);
}

/* End to end over enet://: the server sends 60 numbered packets, one
 * datagram each; the client's link holds 40 % of them back. Unordered,
 * all arrive, some after later ones; sequenced, what was overtaken is
 * dropped and what arrives is strictly increasing. */
typedef struct order_log { int n; uint64_t v[256]; } order_log;

static void on_echo_num(const hive_event *ev, void *user)
{
    order_log *lg = user;
    uint64_t v = 0;
    if (hive_msg_as_uint(hive_event_body(ev), &v) == 0 && lg->n < 256) lg->v[lg->n++] = v;
}

static void stream_numbers(unsigned flags, order_log *lg)
{
    test_scheme = "";
    hive_client_config cc = { .netsim = "reorder=40%,jitter=5ms,dir=recv,seed=9" };
    fixture fx;
    fx_init(&fx, NULL, &cc, true);
    memset(lg, 0, sizeof *lg);
    cr_assert_gt(hive_bus_subscribe(fx.cbus, "net:client.recv.game:echo", on_echo_num, lg, NULL), 0);
    hive_cid cid = hive_client_cid(fx.cli);
    uint32_t pid = (uint32_t)hive_server_packet_id(fx.srv, "game:echo");
    for (int i = 0; i < 60; i++) {
        uint8_t body[1] = { (uint8_t)i };   /* positive fixint */
        cr_assert_eq(hive_server_send_id(fx.srv, cid, pid, body, 1, flags), 0);
        hive_server_flush(fx.srv);          /* a datagram each */
        hive_client_service(fx.cli, 0);
    }
    uint64_t end = hive_now_ns() + 600000000ull;
    while (hive_now_ns() < end) {
        hive_server_service(fx.srv, 1);
        hive_client_service(fx.cli, 1);
    }
    fx_fini(&fx);
}

Test(netsim, unordered_packets_survive_reordering_end_to_end, .timeout = 60)
{
    order_log lg;
    stream_numbers(HIVE_SEND_UNORDERED, &lg);
    bool seen[60] = { false };
    int overtaken = 0;
    for (int i = 0; i < lg.n; i++) {
        cr_assert_lt(lg.v[i], 60u);
        cr_expect(!seen[lg.v[i]], "%llu twice", (unsigned long long)lg.v[i]);
        seen[lg.v[i]] = true;
        if (i && lg.v[i] < lg.v[i - 1]) overtaken++;
    }
    /* Loopback may still lose a datagram now and then. */
    cr_expect_geq(lg.n, 57, "unordered: %d of 60 arrived", lg.n);
    cr_expect_gt(overtaken, 0, "nothing arrived out of order");

    stream_numbers(HIVE_SEND_UNRELIABLE, &lg);
    for (int i = 1; i < lg.n; i++) cr_expect_gt(lg.v[i], lg.v[i - 1], "sequenced: %d out of order", i);
    cr_expect_lt(lg.n, 57, "sequenced: %d of 60 arrived, nothing overtaken was dropped", lg.n);
    cr_expect_gt(lg.n, 10);
}
