/*
 * Per-connection statistics: hive_server_conn_stats / hive_client_conn_stats
 * count what really went each way, measure RTT from Hive's ping/pong,
 * show the send queue and the time connected; the stats events come every
 * stats_interval_ms per connection, and not at all when it is -1.
 */
#include "net_test.h"

static void use_tcp(void) { test_scheme = "tcp://"; }

static const char *const schemes[] = { "", "tcp://" };

/* The client's one connection has had every frame the client ever moved:
 * its stats equal the client's global counters. The server's connection
 * received at least what the client sent. */
static void counts_match(const char *scheme)
{
    test_scheme = scheme;
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive_cid cid = hive_client_cid(fx.cli);
    hive_conn_stats a, b;
    cr_assert_eq(hive_client_conn_stats(fx.cli, &a), HIVE_OK);
    for (int i = 0; i < 20; i++) fx_roundtrip(&fx, "hello there");
    cr_assert_eq(hive_client_conn_stats(fx.cli, &b), HIVE_OK);
    cr_expect_geq(b.frames_out - a.frames_out, 20, "%s: frames out", scheme);
    cr_expect_geq(b.frames_in - a.frames_in, 20, "%s: frames in", scheme);
    cr_expect_geq(b.bytes_out - a.bytes_out, 20 * 12, "%s: bytes out", scheme);
    cr_expect_geq(b.bytes_in - a.bytes_in, 20 * 12, "%s: bytes in", scheme);

    hive_net_stats g;
    cr_assert_eq(hive_client_stats(fx.cli, &g), HIVE_OK);
    cr_assert_eq(hive_client_conn_stats(fx.cli, &b), HIVE_OK);
    cr_expect_eq(b.frames_in, g.frames_in, "%s", scheme);
    cr_expect_eq(b.frames_out, g.frames_out, "%s", scheme);
    cr_expect_eq(b.bytes_in, g.bytes_in, "%s", scheme);
    cr_expect_eq(b.bytes_out, g.bytes_out, "%s", scheme);
    cr_expect_eq(b.resumes, 0);
    cr_expect_eq(b.loss, 0.0);

    hive_conn_stats s;
    cr_assert_eq(hive_server_conn_stats(fx.srv, cid, &s), HIVE_OK);
    cr_expect_geq(s.frames_in, 20 + 2, "%s: server frames in (hello, ready, chats)", scheme);
    cr_expect_geq(s.frames_out, 20 + 1, "%s: server frames out (welcome, echoes)", scheme);
    cr_expect_leq(s.frames_in, b.frames_out, "%s: the server got no more than was sent", scheme);
    cr_expect_leq(s.bytes_in, b.bytes_out, "%s", scheme);
    fx_fini(&fx);
}

Test(conn_stats, frames_and_bytes_are_what_was_sent, .timeout = 30)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) counts_match(schemes[i]);
}

static bool rtt_measured(void *arg)
{
    fixture *fx = arg;
    hive_conn_stats c, s;
    return hive_client_conn_stats(fx->cli, &c) == 0 && c.rtt_samples >= 3 &&
           hive_server_conn_stats(fx->srv, hive_client_cid(fx->cli), &s) == 0 && s.rtt_samples >= 3;
}

static void rtt_after_pings(const char *scheme)
{
    test_scheme = scheme;
    fixture fx;
    hive_server_config sc = { .heartbeat_ms = 40, .heartbeat_timeout_ms = 5000 };
    hive_client_config cc = { .heartbeat_ms = 40, .heartbeat_timeout_ms = 5000 };
    fx_init(&fx, &sc, &cc, true);
    hive_conn_stats c;
    cr_assert_eq(hive_client_conn_stats(fx.cli, &c), HIVE_OK);
    if (c.rtt_samples == 0) {
        cr_expect_eq(c.rtt_ms, -1);
        cr_expect_eq(c.rtt_var_ms, -1);
    }
    cr_assert(pump(fx.srv, fx.cli, 10000, rtt_measured, &fx), "%s: no pongs measured", scheme);
    hive_conn_stats s;
    cr_assert_eq(hive_client_conn_stats(fx.cli, &c), HIVE_OK);
    cr_assert_eq(hive_server_conn_stats(fx.srv, hive_client_cid(fx.cli), &s), HIVE_OK);
    cr_expect_gt(c.rtt_ms, 0, "%s", scheme);
    cr_expect_lt(c.rtt_ms, 5000, "%s: loopback RTT %f ms", scheme, c.rtt_ms);
    cr_expect_geq(c.rtt_var_ms, 0);
    cr_expect_gt(s.rtt_ms, 0, "%s", scheme);
    cr_expect_lt(s.rtt_ms, 5000, "%s: loopback RTT %f ms", scheme, s.rtt_ms);
    fx_fini(&fx);
}

Test(conn_stats, rtt_comes_from_ping_and_pong_on_every_transport, .timeout = 60)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) rtt_after_pings(schemes[i]);
}

Test(conn_stats, time_connected_grows, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive_conn_stats a, b;
    cr_assert_eq(hive_client_conn_stats(fx.cli, &a), HIVE_OK);
    pump(fx.srv, fx.cli, 120, NULL, NULL);
    cr_assert_eq(hive_client_conn_stats(fx.cli, &b), HIVE_OK);
    cr_expect_geq(b.connected_ms, a.connected_ms + 100, "%llu then %llu", (unsigned long long)a.connected_ms,
                  (unsigned long long)b.connected_ms);
    hive_conn_stats s;
    cr_assert_eq(hive_server_conn_stats(fx.srv, hive_client_cid(fx.cli), &s), HIVE_OK);
    cr_expect_geq(s.connected_ms, 100);
    fx_fini(&fx);
}

Test(conn_stats, unknown_connection_is_enoent, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, false);
    hive_conn_stats st;
    cr_expect_eq(hive_server_conn_stats(fx.srv, 12345, &st), HIVE_ENOENT);
    cr_expect_eq(hive_client_conn_stats(fx.cli, &st), HIVE_ENOENT, "not connected");
    cr_expect_eq(hive_server_conn_stats(NULL, 1, &st), HIVE_EINVAL);
    cr_expect_eq(hive_client_conn_stats(fx.cli, NULL), HIVE_EINVAL);
    fx_fini(&fx);
}

/* Between service calls the caller is the I/O thread and what it sends
 * is queued until the round's flush: the queue shows it. */
Test(conn_stats, send_queue_shows_what_is_not_written, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    hive_cid cid = hive_client_cid(fx.cli);
    hive_msg m;
    text_msg(&m, "queued, not yet written");
    for (int i = 0; i < 10; i++) cr_assert_eq(hive_server_send_msg(fx.srv, cid, "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    hive_conn_stats s;
    cr_assert_eq(hive_server_conn_stats(fx.srv, cid, &s), HIVE_OK);
    cr_expect_gt(s.send_queue_bytes, 10 * 20, "queued %llu", (unsigned long long)s.send_queue_bytes);
    fx_fini(&fx);
}

static int count_cid(const recorder *r, const char *name, int64_t cid)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->ev[i].name, name) == 0 && r->ev[i].cid == cid) n++;
    return n;
}

typedef struct stats_seen { int64_t bytes_in, connected_ms, n; } stats_seen;
static void on_stats(const hive_event *ev, void *user)
{
    stats_seen *s = user;
    s->bytes_in = hive_event_int(ev, "bytes_in", -1);
    s->connected_ms = hive_event_int(ev, "connected_ms", -1);
    s->n++;
}

Test(conn_stats, stats_events_come_every_interval_per_connection, .timeout = 30)
{
    fixture fx;
    hive_server_config sc = { .stats_interval_ms = 200 };
    hive_client_config cc = { .stats_interval_ms = 200 };
    fx_init(&fx, &sc, &cc, true);
    stats_seen seen = { 0 };
    cr_assert_gt(hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_STATS, on_stats, &seen, NULL), 0);
    hive_cid cid = hive_client_cid(fx.cli);
    uint64_t t0 = hive_now_ns();
    fx_roundtrip(&fx, "some traffic");
    pump(fx.srv, fx.cli, 1500, NULL, NULL);
    uint64_t ms = (hive_now_ns() - t0) / 1000000u;
    int ns = count_cid(fx.sr, HIVE_EV_SERVER_STATS, cid);
    int nc = rec_count(fx.cr, HIVE_EV_CLIENT_STATS);
    /* One per 200 ms: never more than the time allows (a count, not a
     * time measurement), and at least a few. */
    cr_expect_geq(ns, 3, "server stats events: %d in %llu ms", ns, (unsigned long long)ms);
    cr_expect_leq(ns, (int)(ms / 200) + 1, "server stats events: %d in %llu ms", ns, (unsigned long long)ms);
    cr_expect_geq(nc, 3, "client stats events: %d", nc);
    cr_expect_leq(nc, (int)(ms / 200) + 1, "client stats events: %d in %llu ms", nc, (unsigned long long)ms);
    cr_expect_eq(seen.n, nc);
    cr_expect_gt(seen.bytes_in, 0);
    cr_expect_gt(seen.connected_ms, 0);

    hive_server_config got;
    cr_assert_eq(hive_server_config_get(fx.srv, &got), HIVE_OK);
    cr_expect_eq(got.stats_interval_ms, 200);
    fx_fini(&fx);
}

Test(conn_stats, no_stats_events_when_off_and_default_is_one_second, .timeout = 30)
{
    fixture fx;
    hive_server_config sc = { .stats_interval_ms = -1 };
    hive_client_config cc = { .stats_interval_ms = -1 };
    fx_init(&fx, &sc, &cc, true);
    pump(fx.srv, fx.cli, 400, NULL, NULL);
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_STATS), 0);
    cr_expect_eq(rec_count(fx.cr, HIVE_EV_CLIENT_STATS), 0);
    hive_client_config got;
    cr_assert_eq(hive_client_config_get(fx.cli, &got), HIVE_OK);
    cr_expect_eq(got.stats_interval_ms, -1);
    fx_fini(&fx);

    hive_bus *bus = hive_bus_create(NULL);
    hive_client *c = hive_client_create(NULL, bus);
    cr_assert_not_null(c);
    cr_assert_eq(hive_client_config_get(c, &got), HIVE_OK);
    cr_expect_eq(got.stats_interval_ms, HIVE_DEFAULT_STATS_INTERVAL_MS);
    hive_client_destroy(c);
    cr_expect_null(hive_client_create(&(hive_client_config){ .stats_interval_ms = 5 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "stats_interval_ms");
    cr_expect_null(hive_server_create(&(hive_server_config){ .stats_interval_ms = -2 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "stats_interval_ms");
    hive_bus_destroy(bus);
}

/* Voidable: with no listener the event is never built. The bus says
 * nobody wants it, and a listener that arrives later starts getting it. */
Test(conn_stats, stats_event_is_voidable, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *s = test_server(sbus, &(hive_server_config){ .stats_interval_ms = 50 }, NULL);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(&(hive_client_config){ .stats_interval_ms = 50 }, cbus);
    cr_assert_eq(hive_client_connect(c, addr), HIVE_OK);
    cr_assert(pump_both_open(s, c, 3000));
    cr_expect(!hive_bus_wants(sbus, hive_bus_lookup(sbus, HIVE_EV_SERVER_STATS)));
    pump(s, c, 200, NULL, NULL);
    stats_seen seen = { 0 };
    cr_assert_gt(hive_bus_subscribe(sbus, HIVE_EV_SERVER_STATS, on_stats, &seen, NULL), 0);
    pump(s, c, 300, NULL, NULL);
    cr_expect_geq(seen.n, 1);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

/* A threaded server's numbers, read from the test thread while Hive's
 * I/O thread writes them. */
static void on_chat_echo(const hive_event *ev, void *user)
{
    hive_server *srv = *(hive_server **)user;
    const void *raw, *obj;
    size_t len;
    hive_event_get_msgpack(ev, "msg", &raw, &len, &obj);
    hive_server_send(srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:echo", raw, len);
}

Test(threads, conn_stats_read_while_the_io_thread_writes, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *srv = NULL;
    cr_assert_gt(hive_bus_subscribe(sbus, "net:server.recv.game:chat", on_chat_echo, &srv, NULL), 0);
    srv = test_server(sbus, &(hive_server_config){ .threaded = true }, fx_packets);
    char addr[64];
    test_addr(srv, addr, sizeof addr);
    hive_client *cli = hive_client_create(NULL, cbus);
    cr_assert_eq(hive_client_connect(cli, addr), HIVE_OK);
    cr_assert(pump(NULL, cli, 3000, client_open, cli));
    hive_cid cid = hive_client_cid(cli);
    hive_msg m;
    text_msg(&m, "across threads");
    uint64_t last = 0;
    int grew = 0;
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(hive_client_send_msg(cli, "game:chat", &m), HIVE_OK);
        hive_client_service(cli, 1);
        hive_bus_dispatch(sbus, 0);
        hive_conn_stats st;
        int rc = hive_server_conn_stats(srv, cid, &st);
        if (rc == HIVE_OK) {
            cr_assert_geq(st.frames_in, last);
            if (st.frames_in > last) grew++;
            last = st.frames_in;
        }
    }
    hive_msg_free(&m);
    cr_expect_gt(grew, 0);
    cr_expect_gt(last, 2);
    hive_client_destroy(cli);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

/* bandwidth_out on tcp://: 256 KiB at 128 KiB/s cannot leave in under
 * ~1.9 s (the bucket starts with a tenth of a second's worth). A lower
 * bound only: a loaded machine may take longer. */
typedef struct got_bytes { size_t n; int msgs; } got_bytes;
static void on_big(const hive_event *ev, void *user)
{
    got_bytes *g = user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) == 0) g->n += len;
    g->msgs++;
}
static bool all_in(void *arg) { return ((got_bytes *)arg)->msgs >= 32; }

Test(conn_stats, bandwidth_out_paces_tcp_writes, .init = use_tcp, .timeout = 60)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .bandwidth_out = 128 * 1024 }, NULL, true);
    hive_server_config got;
    cr_assert_eq(hive_server_config_get(fx.srv, &got), HIVE_OK);
    cr_expect_eq(got.bandwidth_out, 128 * 1024);
    got_bytes g = { 0 };
    cr_assert_gt(hive_bus_subscribe(fx.cbus, "net:client.recv.game:echo", on_big, &g, NULL), 0);
    pump(fx.srv, fx.cli, 300, NULL, NULL);   /* let the handshake's burst refill */
    static char text[8192 - 16];
    memset(text, 'b', sizeof text - 1);
    hive_msg m;
    text_msg(&m, text);
    hive_cid cid = hive_client_cid(fx.cli);
    uint64_t t0 = hive_now_ns();
    for (int i = 0; i < 32; i++) cr_assert_eq(hive_server_send_msg(fx.srv, cid, "game:echo", &m), HIVE_OK);
    hive_msg_free(&m);
    cr_assert(pump(fx.srv, fx.cli, 30000, all_in, &g), "got %d of 32", g.msgs);
    double s = (double)(hive_now_ns() - t0) / 1e9;
    cr_expect_geq(g.n, 32 * 8000);
    cr_expect_geq(s, 1.5, "256 KiB at 128 KiB/s took only %.2f s", s);
    fx_fini(&fx);
}

/* On ENet the limits are the host's bandwidth, which ENet announces to
 * the peer in its connect handshake. */
Test(conn_stats, bandwidth_reaches_enet, .timeout = 30)
{
    test_scheme = "";
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = test_server(bus, &(hive_server_config){ .bandwidth_in = 50000, .bandwidth_out = 70000 }, NULL);
    raw_peer *p = calloc(1, sizeof *p);
    raw_connect(p, s);
    cr_expect_eq(p->peer->incomingBandwidth, 50000);
    cr_expect_eq(p->peer->outgoingBandwidth, 70000);
    raw_destroy(p);
    free(p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

/* A connection that is never silent long enough for a heartbeat still
 * gets RTT samples: one ping per stats interval. */
Test(conn_stats, busy_connection_still_measures_rtt, .timeout = 30)
{
    fixture fx;
    hive_server_config sc = { .heartbeat_ms = 2000, .heartbeat_timeout_ms = 10000, .stats_interval_ms = 100 };
    hive_client_config cc = { .heartbeat_ms = 2000, .heartbeat_timeout_ms = 10000, .stats_interval_ms = 100 };
    fx_init(&fx, &sc, &cc, true);
    hive_conn_stats st = { 0 };
    for (int i = 0; i < 3000 && st.rtt_samples < 2; i++) {
        fx_roundtrip(&fx, "busy");
        cr_assert_eq(hive_client_conn_stats(fx.cli, &st), HIVE_OK);
    }
    cr_expect_geq(st.rtt_samples, 2, "no RTT on a busy connection");
    cr_expect_gt(st.rtt_ms, 0);
    fx_fini(&fx);
}
