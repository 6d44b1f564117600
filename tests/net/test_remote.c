/*
 * Remote subscriptions (hive/net.h REMOTE SUBSCRIPTIONS): a client asks
 * for the server's bus events by name or pattern, with filters the server
 * evaluates, and gets them on its own bus as remote:<name>. Exports and
 * their checks decide; refusals are answered and never close; requests
 * are reference counted; a resume keeps them, a fresh session asks again;
 * a slow subscriber has its events dropped and counted.
 */
#include "net_test.h"
#include "net/wire/remote.h"

#include <math.h>
#include <pthread.h>
#include <unistd.h>

typedef struct got {
    int n, accepted, refused;
    char last_name[HIVE_NAME_MAX];
    char reason[160];
    int64_t last_i;
    double last_d;
    char last_s[64];
    size_t bytes_len;
    bool had_ptr, had_mp;
    int64_t mp_val;
    int64_t seq_next, dup, ooo;
} got;

static void on_remote(const hive_event *ev, void *u)
{
    got *g = u;
    g->n++;
    snprintf(g->last_name, sizeof g->last_name, "%s", ev->name);
    g->last_i = hive_event_int(ev, "i", -1);
    g->last_d = hive_event_double(ev, "d", -1);
    const char *s = hive_event_str(ev, "s");
    snprintf(g->last_s, sizeof g->last_s, "%s", s ? s : "");
    const void *p;
    if (hive_event_get_bytes(ev, "b", &p, &g->bytes_len) != HIVE_OK) g->bytes_len = 0;
    g->had_ptr = hive_event_field(ev, "p") != NULL;
    const void *raw, *obj;
    size_t len;
    g->had_mp = hive_event_get_msgpack(ev, "m", &raw, &len, &obj) == HIVE_OK && obj;
    if (g->had_mp) g->mp_val = ((const msgpack_object *)obj)->via.array.ptr[1].via.i64;
    int64_t seq = hive_event_int(ev, "seq", -1);
    if (seq >= 0) {
        if (seq == g->seq_next) g->seq_next++;
        else if (seq < g->seq_next) g->dup++;
        else { g->ooo++; g->seq_next = seq + 1; }
    }
}

static void on_answer(const hive_event *ev, void *u)
{
    got *g = u;
    if (strcmp(ev->name, HIVE_EV_CLIENT_SUB_ACCEPTED) == 0) g->accepted++;
    else {
        g->refused++;
        snprintf(g->reason, sizeof g->reason, "%s|%s", hive_event_str(ev, "pattern"), hive_event_str(ev, "reason"));
    }
}

typedef struct world {
    hive_bus *sbus, *cbus;
    hive_server *srv;
    hive_client *cli;
    char addr[64];
    got g;
    int last_check_cid;
    char last_check_conntype[32];
} world;

static int only_players(hive_server *s, hive_sub_request *r, void *u)
{
    (void)s;
    world *w = u;
    w->last_check_cid = (int)r->cid;
    snprintf(w->last_check_conntype, sizeof w->last_check_conntype, "%s", r->conntype);
    if (strcmp(r->pattern, "secret:plans") == 0) {
        snprintf(r->reason, sizeof r->reason, "players may not read the plans");
        return 1;
    }
    return 0;
}

static void world_up(world *w, const char *scheme, const hive_server_config *scfg, const hive_client_config *ccfg,
                     bool connect)
{
    memset(w, 0, sizeof *w);
    w->sbus = hive_bus_create(NULL);
    w->cbus = hive_bus_create(NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "%s127.0.0.1:0", scheme);
    hive_server_config sc = scfg ? *scfg : (hive_server_config){ 0 };
    sc.addr = addr;
    w->srv = hive_server_create(&sc, w->sbus);
    cr_assert_not_null(w->srv);
    cr_assert_eq(hive_server_export(w->srv, "arena:**", NULL), 0);
    cr_assert_eq(hive_server_export(w->srv, "pos:*", &(hive_export_opts){ .unreliable = true }), 0);
    cr_assert_eq(hive_server_export(w->srv, "secret:*", &(hive_export_opts){ .check = only_players, .user = w }), 0);
    cr_expect_eq(hive_server_export(w->srv, "bad*", NULL), HIVE_EPATTERN);
    cr_assert_eq(hive_server_start(w->srv), 0);
    cr_expect_eq(hive_server_export(w->srv, "late:*", NULL), HIVE_ESTATE);
    const char *p;
    bool unrel;
    cr_expect_eq(hive_server_exports(w->srv, 1, &p, &unrel), 0);
    cr_expect_str_eq(p, "pos:*");
    cr_expect(unrel);
    cr_expect_eq(hive_server_exports(w->srv, 3, &p, &unrel), HIVE_ENOENT);
    snprintf(w->addr, sizeof w->addr, "%s127.0.0.1:%u", scheme, (unsigned)hive_server_port(w->srv));
    w->cli = hive_client_create(ccfg, w->cbus);
    cr_assert_not_null(w->cli);
    hive_bus_subscribe(w->cbus, "remote:**", on_remote, &w->g, NULL);
    hive_bus_subscribe(w->cbus, "net:client.subscription.*", on_answer, &w->g, NULL);
    if (connect) {
        cr_assert_eq(hive_client_connect(w->cli, w->addr), 0);
        cr_assert(pump_both_open(w->srv, w->cli, 5000));
    }
}

static void world_down(world *w)
{
    hive_client_destroy(w->cli);
    hive_server_destroy(w->srv);
    hive_bus_destroy(w->sbus);
    hive_bus_destroy(w->cbus);
}

static void spin(world *w, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (hive_now_ns() < end) {
        hive_server_service(w->srv, 1);
        hive_client_service(w->cli, 1);
    }
}

typedef struct wait_n { const int *v; int n; } wait_n;
static bool reached(void *a) { return *((wait_n *)a)->v >= ((wait_n *)a)->n; }

static bool wait_for(world *w, const int *v, int n, int ms)
{
    wait_n a = { v, n };
    return pump(w->srv, w->cli, ms, reached, &a);
}

static void publish(world *w, const char *name, int64_t i, double d, const char *s)
{
    hive_field f[] = { HIVE_INT("i", i), HIVE_DOUBLE("d", d), HIVE_STR("s", s), HIVE_PTR("p", w) };
    hive_bus_publish_name(w->sbus, name, f, 4);
}

Test(remote, exact_and_pattern_subscriptions_bring_the_fields, .timeout = 30)
{
    world w;
    world_up(&w, "", NULL, NULL, true);
    int h1 = hive_client_subscribe(w.cli, "arena:player.moved", NULL, 0);
    int h2 = hive_client_subscribe(w.cli, "arena:score.*", NULL, 0);
    cr_assert_gt(h1, 0);
    cr_assert_gt(h2, 0);
    cr_assert(wait_for(&w, &w.g.accepted, 2, 3000), "both granted");
    static const uint8_t blob[] = { 1, 2, 3, 4, 5 };
    static const uint8_t mp[] = { 0x92, 0x01, 0x2a };   /* [1, 42] */
    hive_field f[] = { HIVE_INT("i", 7), HIVE_DOUBLE("d", 2.5), HIVE_STR("s", "red"), HIVE_BYTES("b", blob, 5),
                       HIVE_MSGPACK("m", mp, 3, NULL), HIVE_PTR("p", &w) };
    hive_bus_publish_name(w.sbus, "arena:player.moved", f, 6);
    cr_assert(wait_for(&w, &w.g.n, 1, 3000), "the exact subscription's event");
    cr_expect_str_eq(w.g.last_name, "remote:arena:player.moved");
    cr_expect_eq(w.g.last_i, 7);
    cr_expect_eq(w.g.last_d, 2.5);
    cr_expect_str_eq(w.g.last_s, "red");
    cr_expect_eq(w.g.bytes_len, 5u);
    cr_expect(w.g.had_mp, "a MSGPACK field arrives decoded");
    cr_expect_eq(w.g.mp_val, 42);
    cr_expect(!w.g.had_ptr, "a PTR field never travels");
    publish(&w, "arena:score.red", 1, 0, "");
    cr_assert(wait_for(&w, &w.g.n, 2, 3000), "the pattern's event");
    cr_expect_str_eq(w.g.last_name, "remote:arena:score.red");
    publish(&w, "arena:player.left", 1, 0, "");   /* matches nothing asked for */
    publish(&w, "lobby:chat", 1, 0, "");
    spin(&w, 100);
    cr_expect_eq(w.g.n, 2, "only what was asked for");
    hive_net_stats st;
    cr_assert_eq(hive_client_stats(w.cli, &st), 0);
    cr_expect_eq(st.remote_events, 2u);
    world_down(&w);
}

Test(remote, filters_run_on_the_server, .timeout = 30)
{
    world w;
    world_up(&w, "", NULL, NULL, true);
    static const int64_t cids[] = { 3, 7 };
    static const char *const teams[] = { "red", "blue" };
    hive_filter eq_s[] = { HIVE_FILTER_EQ_STR("s", "red") };
    hive_filter in_i[] = { HIVE_FILTER_IN_INT("i", cids, 2) };
    hive_filter range[] = { HIVE_FILTER_RANGE("d", 0, 100) };
    hive_filter both[] = { HIVE_FILTER_IN_STR("s", teams, 2), HIVE_FILTER_EQ_INT("i", 1) };
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:a", eq_s, 1), 0);
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:b", in_i, 1), 0);
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:c", range, 1), 0);
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:d", both, 2), 0);
    cr_assert(wait_for(&w, &w.g.accepted, 4, 3000));
    struct { const char *name; int64_t i; double d; const char *s; bool pass; } cases[] = {
        { "arena:a", 0, 0, "red", true },   { "arena:a", 0, 0, "blue", false },
        { "arena:b", 7, 0, "", true },      { "arena:b", 4, 0, "", false },
        { "arena:c", 0, 100, "", true },    { "arena:c", 0, 100.5, "", false },  { "arena:c", 0, -1, "", false },
        { "arena:d", 1, 0, "blue", true },  { "arena:d", 2, 0, "blue", false },  { "arena:d", 1, 0, "green", false },
    };
    int want = 0;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int before = w.g.n;
        publish(&w, cases[k].name, cases[k].i, cases[k].d, cases[k].s);
        if (cases[k].pass) want++;
        spin(&w, 30);
        cr_expect_eq(w.g.n - before, cases[k].pass ? 1 : 0, "case %zu (%s i=%lld d=%g s=%s)", k, cases[k].name,
                     (long long)cases[k].i, cases[k].d, cases[k].s);
    }
    /* A field of another type, or missing, fails the filter. */
    hive_field wrong[] = { HIVE_INT("s", 5) };
    hive_bus_publish_name(w.sbus, "arena:a", wrong, 1);
    hive_bus_publish_name(w.sbus, "arena:c", NULL, 0);
    spin(&w, 50);
    cr_expect_eq(w.g.n, want);
    world_down(&w);
}

Test(remote, refusals_are_answered_and_the_connection_stays, .timeout = 30)
{
    world w;
    world_up(&w, "", NULL, NULL, true);
    cr_assert_gt(hive_client_subscribe(w.cli, "lobby:**", NULL, 0), 0);
    cr_assert(wait_for(&w, &w.g.refused, 1, 3000));
    cr_expect_str_eq(w.g.reason, "lobby:**|not exported");
    cr_assert_gt(hive_client_subscribe(w.cli, "**", NULL, 0), 0);
    cr_assert(wait_for(&w, &w.g.refused, 2, 3000));
    cr_expect_str_eq(w.g.reason, "**|not exported", "arena:** does not cover everything");
    cr_assert_gt(hive_client_subscribe(w.cli, "secret:plans", NULL, 0), 0);
    cr_assert(wait_for(&w, &w.g.refused, 3, 3000));
    cr_expect_str_eq(w.g.reason, "secret:plans|players may not read the plans");
    cr_expect_eq(w.last_check_cid, (int)hive_client_cid(w.cli), "the check sees the connection");
    cr_expect_str_eq(w.last_check_conntype, "player");
    cr_assert_gt(hive_client_subscribe(w.cli, "secret:weather", NULL, 0), 0);
    cr_assert(wait_for(&w, &w.g.accepted, 1, 3000), "the check lets this one through");
    /* Bad requests are refused here, before anything is sent. */
    cr_expect_eq(hive_client_subscribe(w.cli, "arena:*x", NULL, 0), HIVE_EINVAL);
    hive_filter nan[] = { HIVE_FILTER_RANGE("x", 0, NAN) };
    cr_expect_eq(hive_client_subscribe(w.cli, "arena:x", nan, 1), HIVE_EINVAL);
    hive_filter many[HIVE_FILTERS_MAX + 1];
    for (int i = 0; i <= HIVE_FILTERS_MAX; i++) many[i] = HIVE_FILTER_EQ_INT("x", i);
    cr_expect_eq(hive_client_subscribe(w.cli, "arena:x", many, HIVE_FILTERS_MAX + 1), HIVE_EINVAL);
    cr_expect_eq(hive_client_get_state(w.cli), HIVE_CLIENT_OPEN, "nothing closed");
    publish(&w, "secret:plans", 1, 0, "");
    publish(&w, "secret:weather", 1, 0, "");
    cr_assert(wait_for(&w, &w.g.n, 1, 3000));
    spin(&w, 50);
    cr_expect_eq(w.g.n, 1);
    cr_expect_str_eq(w.g.last_name, "remote:secret:weather");
    world_down(&w);
}

/* A peer that speaks the wire directly: malformed requests get answers. */
Test(remote, malformed_requests_from_the_wire_are_refused_not_fatal, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus);
    cr_assert_eq(hive_server_export(s, "arena:**", NULL), 0);
    cr_assert_eq(hive_server_start(s), 0);
    raw_peer p;
    raw_connect(&p, s);
    raw_handshake(&p, s);
    for (int i = 0; i < 30; i++) { hive_server_service(s, 1); raw_service(&p, 1); }
#define B(lit) lit, sizeof(lit) - 1
    static const struct { const char *what; const char *body; size_t len; } bad[] = {
        { "not a map", B("\x91\x01") },
        { "no pattern", B("\x81\xa2id\x01") },
        { "bad pattern", B("\x82\xa2id\x02\xa7pattern\xa3" "a*b") },
        { "unknown op", B("\x83\xa2id\x03\xa7pattern\xa3" "a:b\xa7" "filters\x91\x93\xa1x\xa2ne\x01") },
        { "range of strings", B("\x83\xa2id\x04\xa7pattern\xa3" "a:b\xa7" "filters\x91\x94\xa1x\xa5range\xa1" "a\xa1" "b") },
        { "too many values", B("\x83\xa2id\x05\xa7pattern\xa3" "a:b\xa7" "filters\x91\x93\xa1x\xa2in\x90") },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        p.rx_len = 0;
        uint8_t buf[128];
        size_t hn = hive__frame_header(buf, HIVE__PID_SUBSCRIBE, HIVE__FLAG_SEQ, bad[i].len);
        memcpy(buf + hn, bad[i].body, bad[i].len);
        raw_send(&p, buf, hn + bad[i].len, 0);
        for (int k = 0; k < 40; k++) { hive_server_service(s, 1); raw_service(&p, 1); }
        hive__frame f;
        bool answered = false;
        size_t off = 0;
        while (off < p.rx_len && hive__frame_decode(p.rx + off, p.rx_len - off, 1 << 20, &f) == 1) {
            off += f.size;
            if (f.pid != HIVE__PID_SUBANSWER) continue;
            hive_msg_view v;
            cr_assert_eq(hive_msg_view_init(&v, f.body, f.body_len), 0);
            uint32_t id;
            bool ok;
            const char *why;
            size_t wl;
            cr_assert_eq(hive__ranswer_parse(v.obj, &id, &ok, &why, &wl), 0);
            cr_expect(!ok, "%s: refused", bad[i].what);
            cr_expect_gt(wl, 0u, "%s: with a reason", bad[i].what);
            hive_msg_view_free(&v);
            answered = true;
        }
        cr_expect(answered, "%s: answered", bad[i].what);
        cr_expect_eq(rec_count(r, HIVE_EV_SERVER_CLOSE), 0, "%s: the connection stays", bad[i].what);
    }
    /* A request on the unreliable channel is a broken frame, though. */
    uint8_t buf[64];
    size_t hn = hive__frame_header(buf, HIVE__PID_SUBSCRIBE, 0, sizeof "\x82\xa2id\x06\xa7pattern\xa3" "a:b" - 1);
    memcpy(buf + hn, "\x82\xa2id\x06\xa7pattern\xa3" "a:b", sizeof "\x82\xa2id\x06\xa7pattern\xa3" "a:b" - 1);
    raw_send(&p, buf, hn + sizeof "\x82\xa2id\x06\xa7pattern\xa3" "a:b" - 1, 1);
    for (int k = 0; k < 40; k++) { hive_server_service(s, 1); raw_service(&p, 1); }
    const rec_event *e = rec_find(r, HIVE_EV_SERVER_CLOSE);
    cr_assert_not_null(e);
    cr_expect_eq(e->reason, HIVE_CLOSE_BAD_FRAME);
    raw_destroy(&p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    free(r);
}

static size_t srv_bus_subs(world *w)
{
    hive_bus_counters c;
    hive_bus_stats(w->sbus, &c);
    return c.subscriptions;
}

Test(remote, the_same_request_twice_is_one_and_the_last_release_ends_it, .timeout = 30)
{
    world w;
    world_up(&w, "", NULL, NULL, true);
    size_t base = srv_bus_subs(&w);
    hive_filter red[] = { HIVE_FILTER_EQ_STR("s", "red") };
    int a = hive_client_subscribe(w.cli, "arena:x.*", red, 1);
    int b = hive_client_subscribe(w.cli, "arena:x.*", red, 1);
    cr_assert_gt(a, 0);
    cr_assert_gt(b, 0);
    cr_expect_neq(a, b, "two handles");
    cr_assert(wait_for(&w, &w.g.accepted, 1, 3000));
    spin(&w, 50);
    cr_expect_eq(w.g.accepted, 1, "one request went out");
    cr_expect_eq(srv_bus_subs(&w), base + 1, "the server holds one subscription for the pattern");
    /* An overlapping one: an event matching both arrives once. */
    int c = hive_client_subscribe(w.cli, "arena:**", NULL, 0);
    cr_assert(wait_for(&w, &w.g.accepted, 2, 3000));
    cr_expect_eq(srv_bus_subs(&w), base + 2);
    publish(&w, "arena:x.y", 1, 0, "red");
    cr_assert(wait_for(&w, &w.g.n, 1, 3000));
    spin(&w, 50);
    cr_expect_eq(w.g.n, 1, "once, though two subscriptions match");
    cr_assert_eq(hive_client_unsubscribe(w.cli, c), 0);
    cr_assert_eq(hive_client_unsubscribe(w.cli, a), 0);
    spin(&w, 50);
    cr_expect_eq(srv_bus_subs(&w), base + 1, "b still holds it");
    publish(&w, "arena:x.y", 1, 0, "red");
    cr_assert(wait_for(&w, &w.g.n, 2, 3000));
    cr_assert_eq(hive_client_unsubscribe(w.cli, b), 0);
    cr_expect_eq(hive_client_unsubscribe(w.cli, b), HIVE_ENOENT);
    spin(&w, 50);
    cr_expect_eq(srv_bus_subs(&w), base, "the last release ended it on the server");
    publish(&w, "arena:x.y", 1, 0, "red");
    spin(&w, 50);
    cr_expect_eq(w.g.n, 2);
    world_down(&w);
}

/* Subscribed before connecting; after a fresh session (resume off, the
 * link cut) the client asks again by itself, and nothing arrives twice. */
Test(remote, a_fresh_session_subscribes_again_by_itself, .timeout = 30)
{
    world w;
    hive_server_config sc = { .resume_window_ms = -1, .heartbeat_ms = 100, .heartbeat_timeout_ms = 1000 };
    hive_client_config cc = { .reconnect_attempts = 20, .reconnect_delay_ms = 20, .reconnect_max_delay_ms = 100,
                              .netsim = "cut_every=400ms,seed=3" };
    world_up(&w, "", &sc, &cc, false);
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:tick", NULL, 0), 0);
    cr_assert_eq(hive_client_connect(w.cli, w.addr), 0);
    cr_assert(pump_both_open(w.srv, w.cli, 5000));
    cr_assert(wait_for(&w, &w.g.accepted, 1, 3000), "asked for as the session opened");
    hive_cid first = hive_client_cid(w.cli);
    uint64_t end = hive_now_ns() + 10000000000ull;
    while ((hive_client_cid(w.cli) == first || hive_client_get_state(w.cli) != HIVE_CLIENT_OPEN) && hive_now_ns() < end)
        spin(&w, 5);
    cr_assert_neq(hive_client_cid(w.cli), first, "a new session");
    cr_assert(wait_for(&w, &w.g.accepted, 2, 3000), "asked for again");
    hive_field f[] = { HIVE_INT("seq", 0) };
    hive_bus_publish_name(w.sbus, "arena:tick", f, 1);
    cr_assert(wait_for(&w, &w.g.n, 1, 3000), "delivered on the new session");
    spin(&w, 50);
    cr_expect_eq(w.g.n, 1);
    cr_expect_eq(w.g.dup + w.g.ooo, 0);
    world_down(&w);
}

/* The link is cut again and again; the session resumes each time and
 * every event reaches the client exactly once, in order. */
Test(remote, subscriptions_and_events_survive_resumes, .timeout = 60)
{
    world w;
    hive_server_config sc = { .heartbeat_ms = 100, .heartbeat_timeout_ms = 1000 };
    hive_client_config cc = { .reconnect_attempts = 50, .reconnect_delay_ms = 20, .reconnect_max_delay_ms = 200,
                              .netsim = "cut_every=300ms,latency=2ms,seed=9" };
    world_up(&w, "", &sc, &cc, true);
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:tick", NULL, 0), 0);
    cr_assert(wait_for(&w, &w.g.accepted, 1, 3000));
    hive_net_stats st0;
    hive_client_stats(w.cli, &st0);
    int sent = 0;
    uint64_t end = hive_now_ns() + 2500000000ull;
    while (hive_now_ns() < end) {
        hive_field f[] = { HIVE_INT("seq", sent) };
        hive_bus_publish_name(w.sbus, "arena:tick", f, 1);
        sent++;
        spin(&w, 2);
    }
    uint64_t drain = hive_now_ns() + 20000000000ull;
    while (w.g.seq_next < sent && hive_now_ns() < drain) spin(&w, 2);
    hive_net_stats st;
    hive_client_stats(w.cli, &st);
    cr_expect_gt(st.resumes, st0.resumes, "no resume happened");
    cr_expect_eq(w.g.seq_next, sent, "got up to %lld of %d", (long long)w.g.seq_next, sent);
    cr_expect_eq(w.g.dup + w.g.ooo, 0, "dup %lld, out of order %lld", (long long)w.g.dup, (long long)w.g.ooo);
    cr_expect_eq(w.g.accepted, 1, "the subscription was kept, not asked for again");
    world_down(&w);
}

static int g_drops_seen;
static void on_dropped(const hive_event *ev, void *u) { (void)u; g_drops_seen = (int)hive_event_int(ev, "dropped", 0); }

/* A client that stops reading: its events are dropped at the source and
 * counted; the server stays responsive; the client learns the count. */
Test(remote, a_slow_subscriber_has_events_dropped_and_counted, .timeout = 60)
{
    world w;
    hive_server_config sc = { .remote_queue_bytes = 4096, .heartbeat_ms = 1000, .heartbeat_timeout_ms = 20000 };
    world_up(&w, "", &sc, NULL, true);
    g_drops_seen = 0;
    hive_bus_subscribe(w.sbus, HIVE_EV_SERVER_SUB_DROPPED, on_dropped, NULL, NULL);
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:big", NULL, 0), 0);
    cr_assert(wait_for(&w, &w.g.accepted, 1, 3000));
    char text[1000];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    /* The client does not service: ENet holds what it does not acknowledge. */
    for (int i = 0; i < 200; i++) {
        hive_field f[] = { HIVE_INT("seq", i), HIVE_STR("s", text) };
        hive_bus_publish_name(w.sbus, "arena:big", f, 2);
        hive_server_service(w.srv, 0);
    }
    hive_net_stats st;
    hive_server_stats(w.srv, &st);
    cr_expect_gt(st.remote_dropped, 0u, "dropped at the source");
    cr_expect_lt(st.remote_dropped, 200u);
    cr_expect_eq((uint64_t)g_drops_seen, st.remote_dropped, "the voidable event counts them");
    /* The client reads again; the next event tells it the count. */
    spin(&w, 500);
    hive_field f[] = { HIVE_INT("seq", 999) };
    hive_bus_publish_name(w.sbus, "arena:big", f, 1);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (hive_client_remote_dropped(w.cli) == 0 && hive_now_ns() < end) spin(&w, 5);
    cr_expect_eq(hive_client_remote_dropped(w.cli), st.remote_dropped);
    cr_expect_eq(hive_client_get_state(w.cli), HIVE_CLIENT_OPEN, "nobody closed");
    world_down(&w);
}

static void raw_sub(raw_peer *p, uint32_t id, const char *pattern)
{
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 2);
    hive_msg_kv_uint(&m, "id", id);
    hive_msg_kv_str(&m, "pattern", pattern);
    uint8_t buf[256];
    size_t hn = hive__frame_header(buf, HIVE__PID_SUBSCRIBE, HIVE__FLAG_SEQ, hive_msg_size(&m));
    memcpy(buf + hn, hive_msg_data(&m), hive_msg_size(&m));
    raw_send(p, buf, hn + hive_msg_size(&m), 0);
    hive_msg_free(&m);
}

Test(remote, each_export_chooses_its_delivery, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus);
    cr_assert_eq(hive_server_export(s, "pos:*", &(hive_export_opts){ .unreliable = true }), 0);
    cr_assert_eq(hive_server_export(s, "chat:*", NULL), 0);
    cr_assert_eq(hive_server_start(s), 0);
    raw_peer p;
    raw_connect(&p, s);
    raw_handshake(&p, s);
    for (int i = 0; i < 30; i++) { hive_server_service(s, 1); raw_service(&p, 1); }
    raw_sub(&p, 1, "pos:p1");
    raw_sub(&p, 2, "chat:all");
    for (int i = 0; i < 30; i++) { hive_server_service(s, 1); raw_service(&p, 1); }
    int rel = p.by_channel[0], unrel = p.by_channel[1];
    hive_bus_publish_name(bus, "pos:p1", NULL, 0);
    hive_server_flush(s);
    for (int i = 0; i < 30; i++) { hive_server_service(s, 1); raw_service(&p, 1); }
    cr_expect_eq(p.by_channel[1], unrel + 1, "positions go unreliable");
    cr_expect_eq(p.by_channel[0], rel);
    hive_bus_publish_name(bus, "chat:all", NULL, 0);
    hive_server_flush(s);
    for (int i = 0; i < 30; i++) { hive_server_service(s, 1); raw_service(&p, 1); }
    cr_expect_eq(p.by_channel[0], rel + 1, "chat goes reliable");
    raw_destroy(&p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

/* ------------------------------------------------------------------ */
/* Waiting, and remote triggers                                         */
/* ------------------------------------------------------------------ */

/* A server that lives on its own thread (not .threaded: it services
 * there, and its bus is owned there), so the client's blocking wait has
 * someone to talk to. */
typedef struct srv_thread {
    uint16_t port;          /* __atomic: set once started */
    int publish, close, stop;   /* __atomic requests from the test */
} srv_thread;

static void *srv_main(void *arg)
{
    srv_thread *t = arg;
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0" }, bus);
    hive_server_export(s, "arena:**", NULL);
    hive_server_start(s);
    __atomic_store_n(&t->port, hive_server_port(s), __ATOMIC_RELEASE);
    while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
        hive_server_service(s, 1);
        if (__atomic_exchange_n(&t->publish, 0, __ATOMIC_ACQ_REL)) {
            hive_field f[] = { HIVE_INT("i", 5) };
            hive_bus_publish_name(bus, "arena:goal", f, 1);
        }
        if (__atomic_exchange_n(&t->close, 0, __ATOMIC_ACQ_REL)) hive_server_close(s, 1, HIVE_CLOSE_KICKED, "bye");
    }
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    return NULL;
}

Test(threads, wait_event_returns_the_event_a_timeout_or_the_close, .timeout = 30)
{
    srv_thread t = { 0 };
    pthread_t th;
    pthread_create(&th, NULL, srv_main, &t);
    while (!__atomic_load_n(&t.port, __ATOMIC_ACQUIRE)) usleep(1000);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)t.port);
    hive_bus *cbus = hive_bus_create(NULL);
    hive_client *c = hive_client_create(NULL, cbus);
    hive_event_copy *e = NULL;
    cr_expect_eq(hive_client_wait_event(c, "remote:arena:goal", 10, &e), HIVE_ECLOSED, "idle: nothing to wait for");
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert_eq(hive_client_wait_connected(c, 3000), 0);
    cr_assert_gt(hive_client_subscribe(c, "arena:goal", NULL, 0), 0);
    cr_assert_eq(hive_client_wait_event(c, HIVE_EV_CLIENT_SUB_ACCEPTED, 3000, &e), HIVE_OK);
    cr_assert_not_null(e);
    cr_expect_str_eq(hive_event_str(&e->ev, "pattern"), "arena:goal");
    hive_event_copy_free(e);
    /* Nothing comes: a timeout, on time. */
    uint64_t t0 = hive_now_ns();
    cr_expect_eq(hive_client_wait_event(c, "remote:arena:goal", 100, &e), HIVE_ETIMEDOUT);
    uint64_t took = (hive_now_ns() - t0) / 1000000u;
    cr_expect_null(e);
    cr_expect_geq(took, 100u);
    cr_expect_lt(took, 2000u, "never long past its timeout");
    /* The event. */
    __atomic_store_n(&t.publish, 1, __ATOMIC_RELEASE);
    cr_assert_eq(hive_client_wait_event(c, "remote:arena:goal", 3000, &e), HIVE_OK);
    cr_expect_eq(hive_event_int(&e->ev, "i", 0), 5);
    hive_event_copy_free(e);
    /* The connection closes: the wait ends with the close. */
    __atomic_store_n(&t.close, 1, __ATOMIC_RELEASE);
    cr_assert_eq(hive_client_wait_event(c, "remote:arena:goal", 3000, &e), HIVE_ECLOSED);
    cr_assert_not_null(e, "the close event");
    cr_expect_str_eq(e->ev.name, HIVE_EV_CLIENT_CLOSE);
    cr_expect_eq(hive_event_int(&e->ev, "reason", 0), HIVE_CLOSE_KICKED);
    hive_event_copy_free(e);
    cr_expect_eq(hive_client_wait_event(c, "remote:arena:goal", 100, &e), HIVE_ECLOSED, "closed: at once");
    cr_expect_null(e);
    hive_client_destroy(c);
    hive_bus_destroy(cbus);
    __atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
}

static int g_expect_ev, g_expect_to;
static void expect_done(const hive_event *ev, void *u)
{
    (void)u;
    if (ev) g_expect_ev++;
    else g_expect_to++;
}

Test(remote, a_game_loop_wait_ends_in_service, .timeout = 30)
{
    world w;
    world_up(&w, "", NULL, NULL, true);
    g_expect_ev = g_expect_to = 0;
    cr_assert_gt(hive_client_subscribe(w.cli, "arena:round.*", NULL, 0), 0);
    cr_assert(wait_for(&w, &w.g.accepted, 1, 3000));
    cr_assert_gt(hive_bus_expect(w.cbus, "remote:arena:round.start", NULL, NULL, 2000, expect_done, NULL), 0);
    cr_assert_gt(hive_bus_expect(w.cbus, "remote:arena:round.never", NULL, NULL, 50, expect_done, NULL), 0);
    hive_bus_publish_name(w.sbus, "arena:round.start", NULL, 0);
    spin(&w, 200);   /* service only: no dispatch call */
    cr_expect_eq(g_expect_ev, 1);
    cr_expect_eq(g_expect_to, 1, "the timeout fired from service");
    world_down(&w);
}

static int g_trig_fired;
static void trig_act(const hive_event *ev, void *u) { (void)ev; (void)u; g_trig_fired++; }
static bool trig_cond(const hive_event *ev, void *u) { (void)u; return hive_event_int(ev, "i", 0) > 1; }

Test(remote, remote_triggers_subscribe_and_let_go, .timeout = 30)
{
    world w;
    world_up(&w, "", NULL, NULL, true);
    size_t base = srv_bus_subs(&w);
    g_trig_fired = 0;
    const char *evs[] = { "arena:boss.dead", "arena:key.*" };
    hive_trigger_cond conds[] = { { trig_cond, NULL } };
    hive_trigger_action acts[] = { { trig_act, NULL } };
    hive_filter red[] = { HIVE_FILTER_EQ_STR("s", "red") };
    hive_trigger_desc d = { .name = "treasure", .events = evs, .nevents = 2, .conds = conds, .nconds = 1,
                            .actions = acts, .nactions = 1 };
    cr_assert_eq(hive_client_trigger_add(w.cli, &d, red, 1), HIVE_OK);
    cr_expect_eq(hive_client_trigger_add(w.cli, &d, red, 1), HIVE_EEXIST);
    cr_assert(wait_for(&w, &w.g.accepted, 2, 3000));
    cr_expect_eq(srv_bus_subs(&w), base + 2, "one remote subscription per event");
    publish(&w, "arena:boss.dead", 1, 0, "red");    /* the client-side condition says no */
    publish(&w, "arena:key.found", 2, 0, "blue");   /* the server-side filter says no */
    publish(&w, "arena:key.found", 2, 0, "red");
    spin(&w, 100);
    cr_expect_eq(g_trig_fired, 1);
    cr_assert_eq(hive_client_trigger_remove(w.cli, "treasure"), HIVE_OK);
    spin(&w, 100);
    cr_expect_eq(srv_bus_subs(&w), base, "removed: unsubscribed on the server");
    cr_expect_eq(hive_bus_trigger_find(w.cbus, "treasure", NULL), HIVE_ENOENT);
    /* Single shot: fires once, and its subscriptions go with it. */
    d.single_shot = true;
    d.name = "once";
    cr_assert_eq(hive_client_trigger_add(w.cli, &d, NULL, 0), HIVE_OK);
    cr_assert(wait_for(&w, &w.g.accepted, 4, 3000));
    cr_expect_eq(srv_bus_subs(&w), base + 2);
    publish(&w, "arena:boss.dead", 5, 0, "");
    publish(&w, "arena:boss.dead", 5, 0, "");
    spin(&w, 100);
    cr_expect_eq(g_trig_fired, 2, "once");
    cr_expect_eq(srv_bus_subs(&w), base, "the single shot let its subscriptions go");
    cr_expect_eq(hive_client_trigger_remove(w.cli, "once"), HIVE_ENOENT);
    world_down(&w);
}

/* A server with its own I/O thread: the subscriptions and the matching
 * live on the thread that dispatches its bus (this one). */
Test(threads, a_threaded_server_serves_remote_subscriptions, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0", .threaded = true }, sbus);
    cr_assert_eq(hive_server_export(s, "arena:**", NULL), 0);
    cr_assert_eq(hive_server_export(s, "secret:*", &(hive_export_opts){ .check = only_players, .user = NULL }), 0);
    cr_assert_eq(hive_server_start(s), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)hive_server_port(s));
    got g = { 0 };
    hive_client *c = hive_client_create(NULL, cbus);
    hive_bus_subscribe(cbus, "remote:**", on_remote, &g, NULL);
    hive_bus_subscribe(cbus, "net:client.subscription.*", on_answer, &g, NULL);
    cr_assert_gt(hive_client_subscribe(c, "arena:tick", NULL, 0), 0);
    cr_assert_gt(hive_client_subscribe(c, "lobby:**", NULL, 0), 0);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while ((g.accepted < 1 || g.refused < 1) && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);   /* the game thread: requests are handled here */
        hive_client_service(c, 1);
    }
    cr_expect_eq(g.accepted, 1);
    cr_expect_eq(g.refused, 1);
    cr_expect_str_eq(g.reason, "lobby:**|not exported");
    for (int i = 0; i < 10; i++) {
        hive_field f[] = { HIVE_INT("seq", i) };
        hive_bus_publish_name(sbus, "arena:tick", f, 1);
    }
    end = hive_now_ns() + 5000000000ull;
    while (g.n < 10 && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        hive_client_service(c, 1);
    }
    cr_expect_eq(g.n, 10);
    cr_expect_eq(g.dup + g.ooo, 0);
    /* The client goes: its subscriptions go with it, on the game thread. */
    hive_bus_counters b0;
    hive_bus_stats(sbus, &b0);
    hive_client_destroy(c);
    end = hive_now_ns() + 5000000000ull;
    hive_bus_counters b1 = b0;
    while (b1.subscriptions == b0.subscriptions && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        hive_bus_stats(sbus, &b1);
        usleep(1000);
    }
    cr_expect_eq(b1.subscriptions, b0.subscriptions - 1, "the group's bus subscription went");
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

/* Both threaded: the client's subscriptions live on the thread that
 * dispatches its bus, too. */
Test(threads, threaded_server_and_client_speak_remote_subscriptions, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = "127.0.0.1:0", .threaded = true }, sbus);
    cr_assert_eq(hive_server_export(s, "arena:**", NULL), 0);
    cr_assert_eq(hive_server_start(s), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)hive_server_port(s));
    got g = { 0 };
    hive_client *c = hive_client_create(&(hive_client_config){ .threaded = true }, cbus);
    hive_bus_subscribe(cbus, "remote:**", on_remote, &g, NULL);
    hive_bus_subscribe(cbus, "net:client.subscription.*", on_answer, &g, NULL);
    int h = hive_client_subscribe(c, "arena:tick", NULL, 0);
    cr_assert_gt(h, 0);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (g.accepted < 1 && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        hive_bus_dispatch(cbus, 0);
        usleep(500);
    }
    cr_assert_eq(g.accepted, 1, "asked for as the session opened, from the game thread");
    for (int i = 0; i < 10; i++) {
        hive_field f[] = { HIVE_INT("seq", i) };
        hive_bus_publish_name(sbus, "arena:tick", f, 1);
    }
    end = hive_now_ns() + 5000000000ull;
    while (g.n < 10 && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        hive_bus_dispatch(cbus, 0);
        usleep(500);
    }
    cr_expect_eq(g.n, 10);
    cr_expect_eq(g.dup + g.ooo, 0);
    cr_assert_eq(hive_client_unsubscribe(c, h), 0);
    hive_bus_counters b0, b1;
    hive_bus_stats(sbus, &b0);
    b1 = b0;
    end = hive_now_ns() + 5000000000ull;
    while (b1.subscriptions == b0.subscriptions && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        hive_bus_dispatch(cbus, 0);
        hive_bus_stats(sbus, &b1);
        usleep(500);
    }
    cr_expect_eq(b1.subscriptions, b0.subscriptions - 1, "the unsubscribe reached the server");
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}
