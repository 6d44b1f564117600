/*
 * Closing gracefully (hive/net.h CLOSING): a close the game asks for lets
 * every reliable message already sent arrive first, within
 * drain_timeout_ms, and both sides' close events say exactly whether the
 * peer confirmed all of them (delivered / undelivered).
 */
#include "net_test.h"

#include <time.h>

typedef struct closes {
    int n;
    int64_t reason, remote, delivered, undelivered;
    uint64_t at_ns;
} closes;

static void on_close(const hive_event *ev, void *u)
{
    closes *c = u;
    c->n++;
    c->reason = hive_event_int(ev, "reason", -1);
    c->remote = hive_event_int(ev, "remote", -1);
    c->delivered = hive_event_int(ev, "delivered", -1);
    c->undelivered = hive_event_int(ev, "undelivered", -1);
    c->at_ns = hive_now_ns();
}

typedef struct counter { uint32_t next, got, bad; } counter;

static void on_num(const hive_event *ev, void *u)
{
    counter *k = u;
    hive_msg_view v;
    const msgpack_object *o;
    uint64_t n = UINT64_MAX;
    if (hive_event_msg(ev, &v, &o) == 0) hive_msg_get_uint(o, "n", &n);
    hive_msg_view_free(&v);
    if (n == k->next) {
        k->next++;
        k->got++;
    } else {
        k->bad++;
    }
}

static void num_msg(hive_msg *m, uint32_t n)
{
    hive_msg_reset(m);
    hive_msg_map(m, 1);
    hive_msg_kv_uint(m, "n", n);
}

/* Sends game:n {n: 0..count-1} to cid, each accepted. */
static void send_nums(hive_server *s, hive_cid cid, uint32_t count)
{
    hive_msg m;
    hive_msg_init(&m);
    for (uint32_t i = 0; i < count; i++) {
        num_msg(&m, i);
        cr_assert_eq(hive_server_send_msg(s, cid, "game:n", &m), HIVE_OK);
    }
    hive_msg_free(&m);
}

static bool gone(void *arg) { return client_gone(arg); }
static bool closed_once(void *arg) { return ((closes *)arg)->n > 0; }

/* ------------------------------------------------------------------ */
/* hive_server_stop waits for what was sent                             */
/* ------------------------------------------------------------------ */

#define NSTOP 3000

static void server_stop_delivers_everything(const char *scheme)
{
    test_scheme = scheme;
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    closes sc = { 0 };
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_CLOSE, on_close, &sc, NULL);
    hive_server *s = test_server(sbus, NULL, (const char *const[]){ "game:n", NULL });
    char addr[64];
    test_addr(s, addr, sizeof addr);
    /* The client has its own thread (it must read and acknowledge while
     * the server's stop runs on this one) and a slow link. */
    hive_client_config cc = { .threaded = true, .pull = true, .netsim = "latency=30ms,jitter=5ms" };
    hive_client *c = hive_client_create(&cc, cbus);
    cr_assert_not_null(c);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    uint64_t end = hive_now_ns() + 5000000000ull;
    hive_cid cid = 0;
    while (hive_now_ns() < end) {
        hive_server_service(s, 5);
        hive_conn_info ci;
        cid = hive_client_cid(c);
        if (cid && hive_server_conn_info(s, cid, &ci) == 0 && ci.open) break;
    }
    cr_assert_neq(cid, 0, "%s: no handshake", scheme);
    send_nums(s, cid, NSTOP);
    cr_assert_eq(hive_server_stop(s), HIVE_OK);
    cr_assert_eq(sc.n, 1);
    cr_expect_eq(sc.reason, HIVE_CLOSE_SERVER_SHUTDOWN);
    cr_expect_eq(sc.remote, 0);
    cr_expect_eq(sc.delivered, 1, "%s: the stop closed before the client had everything (%lld unconfirmed)",
                 scheme, (long long)sc.undelivered);
    cr_expect_eq(sc.undelivered, 0, "%s", scheme);
    /* And the client really has them, in order. */
    uint32_t next = 0, bad = 0;
    hive_packet p;
    while (hive_client_wait(c, 2000) == 1 && hive_client_next(c, &p) == 1) {
        uint64_t n = UINT64_MAX;
        hive_msg_get_uint(p.msg, "n", &n);
        if (n == next) next++;
        else bad++;
        hive_packet_free(&p);
    }
    cr_expect_eq(next, NSTOP, "%s: the client got %u of %u", scheme, next, NSTOP);
    cr_expect_eq(bad, 0);
    cr_expect_eq(hive_client_close_reason(c), HIVE_CLOSE_SERVER_SHUTDOWN);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

Test(drain, server_stop_waits_for_enet_peers_to_have_everything, .timeout = 30)
{
    server_stop_delivers_everything("");
}

Test(drain, server_stop_waits_for_tcp_peers_to_have_everything, .timeout = 30)
{
    server_stop_delivers_everything("tcp://");
}

/* ------------------------------------------------------------------ */
/* A peer that never confirms: bounded wait, exact count                */
/* ------------------------------------------------------------------ */

Test(drain, a_peer_that_never_reads_is_given_drain_timeout_ms_and_the_loss_is_counted, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    closes sc = { 0 };
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_CLOSE, on_close, &sc, NULL);
    hive_server_config cfg = { .drain_timeout_ms = 300 };
    hive_server *s = test_server(sbus, &cfg, (const char *const[]){ "game:n", NULL });
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(NULL, cbus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000));
    hive_cid cid = hive_client_cid(c);
    send_nums(s, cid, 50);
    /* The client is never serviced again: nothing gets acknowledged. */
    hive_msg m;
    hive_msg_init(&m);
    uint64_t t0 = hive_now_ns();
    cr_assert_eq(hive_server_close(s, cid, HIVE_CLOSE_KICKED, "bye"), HIVE_OK);
    num_msg(&m, 50);
    cr_expect_eq(hive_server_send_msg(s, cid, "game:n", &m), HIVE_ESTATE, "no sends once the close is asked for");
    hive_msg_free(&m);
    hive_conn_info ci;
    cr_assert_eq(hive_server_conn_info(s, cid, &ci), 0);
    cr_expect(!ci.open, "a closing connection is not open");
    pump(s, NULL, 50, NULL, NULL);
    cr_expect_eq(sc.n, 0, "the close waits for the acknowledgement");
    cr_assert(pump(s, NULL, 3000, closed_once, &sc), "the drain is bounded");
    cr_expect_geq(sc.at_ns - t0, 250000000ull, "it waited drain_timeout_ms");
    cr_expect_eq(sc.reason, HIVE_CLOSE_KICKED);
    cr_expect_eq(sc.delivered, 0);
    cr_expect_eq(sc.undelivered, 50, "every message is unconfirmed: got %lld", (long long)sc.undelivered);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

Test(drain, drain_timeout_minus_one_closes_at_once, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    closes sc = { 0 };
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_CLOSE, on_close, &sc, NULL);
    hive_server_config cfg = { .drain_timeout_ms = -1 };
    hive_server *s = test_server(sbus, &cfg, (const char *const[]){ "game:n", NULL });
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(NULL, cbus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000));
    hive_cid cid = hive_client_cid(c);
    hive_msg m;
    hive_msg_init(&m);
    num_msg(&m, 0);
    cr_assert_eq(hive_server_send_msg(s, cid, "game:n", &m), HIVE_OK);
    hive_msg_free(&m);
    cr_assert_eq(hive_server_close(s, cid, HIVE_CLOSE_KICKED, NULL), HIVE_OK);
    cr_expect_eq(sc.n, 1, "no wait");
    cr_expect_eq(sc.undelivered, 1);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    hive_server_config bad = { .drain_timeout_ms = -2, .addr = "tcp://127.0.0.1:0" };
    hive_bus *b = hive_bus_create(NULL);
    cr_expect_null(hive_server_create(&bad, b));
    cr_expect_str_eq(hive_create_error()->field, "drain_timeout_ms", "%s", hive_create_error()->message);
    hive_bus_destroy(b);
}

/* ------------------------------------------------------------------ */
/* The close packet carries the final acknowledgement                   */
/* ------------------------------------------------------------------ */

Test(drain, a_close_packet_confirms_what_its_sender_received, .timeout = 30)
{
    test_scheme = "";
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    closes sc = { 0 }, cc = { 0 };
    counter got = { 0 };
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_CLOSE, on_close, &sc, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_CLOSE, on_close, &cc, NULL);
    hive_bus_subscribe(cbus, "net:client.recv.game:n", on_num, &got, NULL);
    hive_server *s = test_server(sbus, NULL, (const char *const[]){ "game:n", NULL });
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client *c = hive_client_create(NULL, cbus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000));
    hive_cid cid = hive_client_cid(c);
    /* Far fewer than an acknowledgement's worth (32 KiB): the client
     * would acknowledge them only at its 50 ms timer. */
    send_nums(s, cid, 10);
    hive_server_flush(s);
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (got.got < 10 && hive_now_ns() < end) hive_client_service(c, 1);
    cr_assert_eq(got.got, 10);
    /* The client has nothing of its own unconfirmed: it closes at once,
     * and its close packet says it has all 10. */
    cr_assert_eq(hive_client_close(c, HIVE_CLOSE_NORMAL, "done"), HIVE_OK);
    cr_assert(pump(s, c, 3000, closed_once, &sc), "the server saw no close");
    cr_expect_eq(sc.remote, 1);
    cr_expect_eq(sc.reason, HIVE_CLOSE_NORMAL);
    cr_expect_eq(sc.delivered, 1, "the close packet confirmed everything (%lld unconfirmed)",
                 (long long)sc.undelivered);
    cr_expect_eq(sc.undelivered, 0);
    pump(s, c, 3000, gone, c);
    cr_expect_eq(cc.n, 1);
    cr_expect_eq(cc.delivered, 1);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

/* ------------------------------------------------------------------ */
/* A client's close drains its own sends                                */
/* ------------------------------------------------------------------ */

#define NCLI 2000

static void client_close_drains(const char *scheme, bool by_stop)
{
    test_scheme = scheme;
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    closes sc = { 0 }, cc = { 0 };
    counter got = { 0 };
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_CLOSE, on_close, &sc, NULL);
    hive_bus_subscribe(sbus, "net:server.recv.game:n", on_num, &got, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_CLOSE, on_close, &cc, NULL);
    /* The server has its own thread: it reads and acknowledges while the
     * client's stop runs on this one. */
    hive_server_config scfg = { .threaded = true };
    hive_server *s = test_server(sbus, &scfg, (const char *const[]){ "game:n", NULL });
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client_config ccfg = { .netsim = "latency=20ms,jitter=5ms" };
    hive_client *c = hive_client_create(&ccfg, cbus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump(NULL, c, 5000, client_open, c), "%s: no handshake", scheme);
    hive_msg m;
    hive_msg_init(&m);
    for (uint32_t i = 0; i < NCLI; i++) {
        num_msg(&m, i);
        cr_assert_eq(hive_client_send_msg(c, "game:n", &m), HIVE_OK);
    }
    if (by_stop) {
        cr_assert_eq(hive_client_stop(c), HIVE_OK);
    } else {
        cr_assert_eq(hive_client_close(c, HIVE_CLOSE_NORMAL, "bye"), HIVE_OK);
        num_msg(&m, NCLI);
        cr_expect_eq(hive_client_send_msg(c, "game:n", &m), HIVE_ESTATE, "no sends once the close is asked for");
        cr_expect_eq(hive_client_get_state(c), HIVE_CLIENT_OPEN, "open until the close is done");
        cr_assert(pump(NULL, c, 5000, gone, c), "%s: the close never finished", scheme);
    }
    hive_msg_free(&m);
    cr_assert_eq(cc.n, 1);
    cr_expect_eq(cc.reason, HIVE_CLOSE_NORMAL);
    cr_expect_eq(cc.delivered, 1, "%s: %lld unconfirmed", scheme, (long long)cc.undelivered);
    cr_expect_eq(cc.undelivered, 0);
    /* The server's events are posted: deliver them here. */
    uint64_t end = hive_now_ns() + 5000000000ull;
    while ((got.got < NCLI || !sc.n) && hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    cr_expect_eq(got.got, NCLI, "%s: the server got %u of %u", scheme, got.got, NCLI);
    cr_expect_eq(got.bad, 0);
    cr_expect_eq(sc.n, 1);
    cr_expect_eq(sc.remote, 1);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

Test(drain, client_close_lets_its_messages_arrive_enet, .timeout = 30) { client_close_drains("", false); }
Test(drain, client_close_lets_its_messages_arrive_tcp, .timeout = 30) { client_close_drains("tcp://", false); }
Test(drain, client_stop_lets_its_messages_arrive_enet, .timeout = 30) { client_close_drains("", true); }
Test(drain, client_stop_lets_its_messages_arrive_tcp, .timeout = 30) { client_close_drains("tcp://", true); }

/* ------------------------------------------------------------------ */
/* Threaded server: sends queued by the owner just before the stop      */
/* ------------------------------------------------------------------ */

Test(threads, a_threaded_server_stop_sends_what_the_owner_queued_first, .timeout = 30)
{
    test_scheme = "";
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    closes sc = { 0 };
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_CLOSE, on_close, &sc, NULL);
    hive_server_config scfg = { .threaded = true };
    hive_server *s = test_server(sbus, &scfg, (const char *const[]){ "game:n", NULL });
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_client_config ccfg = { .threaded = true, .pull = true };
    hive_client *c = hive_client_create(&ccfg, cbus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    uint64_t end = hive_now_ns() + 5000000000ull;
    hive_cid cid = 0;
    while (hive_now_ns() < end) {
        hive_bus_dispatch(sbus, 0);
        hive_conn_info ci;
        cid = hive_client_cid(c);
        if (cid && hive_server_conn_info(s, cid, &ci) == 0 && ci.open) break;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    cr_assert_neq(cid, 0);
    send_nums(s, cid, 500);
    cr_assert_eq(hive_server_stop(s), HIVE_OK);
    hive_bus_dispatch(sbus, 0);
    cr_assert_eq(sc.n, 1);
    cr_expect_eq(sc.delivered, 1, "%lld unconfirmed", (long long)sc.undelivered);
    uint32_t next = 0;
    hive_packet p;
    while (hive_client_wait(c, 2000) == 1 && hive_client_next(c, &p) == 1) {
        uint64_t n = UINT64_MAX;
        hive_msg_get_uint(p.msg, "n", &n);
        if (n == next) next++;
        hive_packet_free(&p);
    }
    cr_expect_eq(next, 500, "the client got %u of 500", next);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}
