/*
 * Reconnecting (hive/net.h RECONNECTING): a client whose link is lost
 * dials again with exponential backoff and jitter, announces each attempt,
 * says its old session is gone when the new handshake completes, closes
 * once when the attempts run out or the game stops it, and never
 * reconnects after a close the server or the game chose.
 */
#include "net_test.h"

#define RC_MAX 64

typedef struct attempt_rec {
    int attempt, delay_ms, reason;
    uint64_t at_ms;     /* when the handler ran: no earlier than the event */
    uint64_t from_ms;   /* when its service call began: no later than the event */
} attempt_rec;

typedef struct watch {
    attempt_rec a[RC_MAX];
    int n;
    int invalidated;
    int64_t old_cid, new_cid, inv_reason;
    int closes, stops;
    int64_t close_reason, close_remote, close_undelivered;
    uint64_t close_at_ms;
} watch;

static uint64_t ms(void) { return hive_now_ns() / 1000000u; }

static void on_reconnecting(const hive_event *ev, void *user)
{
    watch *w = user;
    if (w->n >= RC_MAX) return;
    attempt_rec *r = &w->a[w->n++];
    r->attempt = (int)hive_event_int(ev, "attempt", -1);
    r->delay_ms = (int)hive_event_int(ev, "delay_ms", -1);
    r->reason = (int)hive_event_int(ev, "reason", -1);
    r->at_ms = ms();
    r->from_ms = pump_client_service_ns / 1000000u;
    cr_expect_str_eq(hive_event_str(ev, "reason_name"), hive_close_reason_name(r->reason));
}

static void on_invalidated(const hive_event *ev, void *user)
{
    watch *w = user;
    w->invalidated++;
    w->old_cid = hive_event_int(ev, "old_cid", -1);
    w->new_cid = hive_event_int(ev, "cid", -1);
    w->inv_reason = hive_event_int(ev, "reason", -1);
}

static void on_close(const hive_event *ev, void *user)
{
    watch *w = user;
    w->closes++;
    w->close_reason = hive_event_int(ev, "reason", -1);
    w->close_remote = hive_event_int(ev, "remote", -1);
    w->close_undelivered = hive_event_int(ev, "undelivered", -1);
    w->close_at_ms = ms();
}

static void on_stop(const hive_event *ev, void *user)
{
    (void)ev;
    ((watch *)user)->stops++;
}

static void watch_attach(watch *w, hive_bus *bus)
{
    memset(w, 0, sizeof *w);
    cr_assert_gt(hive_bus_subscribe(bus, HIVE_EV_CLIENT_RECONNECTING, on_reconnecting, w, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(bus, HIVE_EV_CLIENT_SESSION_INVALIDATED, on_invalidated, w, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(bus, HIVE_EV_CLIENT_CLOSE, on_close, w, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(bus, HIVE_EV_CLIENT_STOP, on_stop, w, NULL), 0);
}

typedef struct wait_n { const int *v; int n; } wait_n;
static bool reached(void *arg)
{
    wait_n *w = arg;
    return *w->v >= w->n;
}

Test(reconnect, limits_are_checked_at_create)
{
    hive_bus *bus = hive_bus_create(NULL);
    static const struct { hive_client_config c; const char *field; } bad[] = {
        { { .reconnect_attempts = 3, .reconnect_delay_ms = 5 }, "reconnect_delay_ms" },
        { { .reconnect_delay_ms = 500, .reconnect_max_delay_ms = 100 }, "reconnect_max_delay_ms" },
        { { .reconnect_factor = 0.5 }, "reconnect_factor" },
        { { .reconnect_factor = 17 }, "reconnect_factor" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_null(hive_client_create(&bad[i].c, bus), "%s", bad[i].field);
        cr_expect_str_eq(hive_create_error()->field, bad[i].field);
    }
    hive_client *c = hive_client_create(&(hive_client_config){ .reconnect_attempts = 2 }, bus);
    cr_assert_not_null(c);
    hive_client_config got;
    cr_assert_eq(hive_client_config_get(c, &got), 0);
    cr_expect_eq(got.reconnect_attempts, 2);
    cr_expect_eq(got.reconnect_delay_ms, HIVE_DEFAULT_RECONNECT_DELAY_MS);
    cr_expect_eq(got.reconnect_max_delay_ms, HIVE_DEFAULT_RECONNECT_MAX_DELAY_MS);
    cr_expect_eq(got.reconnect_factor, HIVE_DEFAULT_RECONNECT_FACTOR);
    hive_client_destroy(c);
    hive_bus_destroy(bus);
}

/* The server falls silent, then goes away for good: the client times out,
 * then tries 4 times with growing, jittered delays, and closes once. */
static void backoff(const char *scheme)
{
    test_scheme = scheme;
    hive_server_config sc = { .heartbeat_ms = 50, .heartbeat_timeout_ms = 300 };
    hive_client_config cc = { .reconnect_attempts = 4, .reconnect_delay_ms = 100, .reconnect_factor = 2,
                              .reconnect_max_delay_ms = 300, .connect_timeout_ms = 300,
                              .handshake_timeout_ms = 300 };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    watch w;
    watch_attach(&w, fx.cbus);
    /* Only the client runs: the server is silent, the client times out. */
    wait_n one = { &w.n, 1 };
    cr_assert(pump(NULL, fx.cli, 5000, reached, &one), "%s: no reconnect after the timeout", scheme);
    cr_expect_eq(w.a[0].reason, HIVE_CLOSE_TIMEOUT, "%s", scheme);
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_RECONNECTING);
    cr_expect_eq(w.closes, 0, "%s: no close event while reconnecting", scheme);
    hive_msg m;
    text_msg(&m, "into the void");
    cr_expect_eq(hive_client_send_msg(fx.cli, "game:chat", &m), HIVE_OK, "%s: kept for the resume", scheme);
    hive_msg_free(&m);
    hive_server_destroy(fx.srv);   /* nobody at the address any more */
    fx.srv = NULL;
    wait_n closed = { &w.closes, 1 };
    cr_assert(pump(NULL, fx.cli, 20000, reached, &closed), "%s: the attempts never ran out", scheme);
    cr_expect_eq(w.n, 4, "%s: %d attempts", scheme, w.n);
    int lo[4] = { 50, 100, 150, 150 }, hi[4] = { 100, 200, 300, 300 };
    for (int i = 0; i < w.n && i < 4; i++) {
        cr_expect_eq(w.a[i].attempt, i + 1);
        cr_expect(w.a[i].delay_ms >= lo[i] && w.a[i].delay_ms <= hi[i], "%s: attempt %d waited %d ms, not %d..%d",
                  scheme, i + 1, w.a[i].delay_ms, lo[i], hi[i]);
        /* from the earliest the attempt can have been scheduled to the
         * latest its end can have been seen: at least its delay, however
         * late the handlers ran */
        uint64_t next = i + 1 < w.n ? w.a[i + 1].at_ms : w.close_at_ms;
        cr_expect_geq(next - w.a[i].from_ms, (uint64_t)w.a[i].delay_ms, "%s: attempt %d came before its delay",
                      scheme, i + 1);
        if (i) cr_expect(w.a[i].reason == HIVE_CLOSE_CONNECT_FAILED || w.a[i].reason == HIVE_CLOSE_HANDSHAKE_TIMEOUT ||
                         w.a[i].reason == HIVE_CLOSE_PEER_VANISHED || w.a[i].reason == HIVE_CLOSE_TIMEOUT,
                         "%s: attempt %d after %s", scheme, i + 1, hive_close_reason_name(w.a[i].reason));
    }
    cr_expect_eq(w.closes, 1);
    cr_expect_eq(w.stops, 1);
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_CLOSED);
    cr_expect_eq(hive_client_close_reason(fx.cli), (int)w.close_reason);
    cr_expect_eq(w.close_undelivered, 1, "%s: the close says the kept message never got through", scheme);
    cr_expect_eq(w.invalidated, 0);
    fx_fini(&fx);
}

Test(reconnect, backoff_grows_with_jitter_and_gives_up, .timeout = 60)
{
    backoff("tcp://");
    backoff("");
}

static bool both_handshakes(void *arg)
{
    fixture *fx = arg;
    return rec_count(fx->cr, HIVE_EV_CLIENT_HANDSHAKE) >= 2 && hive_client_get_state(fx->cli) == HIVE_CLIENT_OPEN;
}

/* A cut link (the network simulator's) to a server that keeps no session
 * (resume_window_ms = -1) comes back as a new session: the client says
 * the old one is invalid, and plays on. */
static void back_after_a_cut(const char *scheme, bool threaded)
{
    test_scheme = scheme;
    hive_server_config sc = { .heartbeat_ms = 100, .heartbeat_timeout_ms = 1000, .resume_window_ms = -1 };
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 20, .netsim = "cut_every=600ms,seed=3",
                              .threaded = threaded };
    fixture fx;
    fx_init(&fx, &sc, &cc, !threaded);
    watch w;
    watch_attach(&w, fx.cbus);
    if (threaded) {
        cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
        uint64_t end = ms() + 5000;
        while (hive_client_get_state(fx.cli) != HIVE_CLIENT_OPEN && ms() < end) {
            hive_server_service(fx.srv, 1);
            hive_bus_dispatch(fx.cbus, 0);
        }
    }
    hive_cid first = hive_client_cid(fx.cli);
    cr_assert_gt(first, 0);
    uint64_t end = ms() + 10000;
    while (!(w.invalidated >= 1 && hive_client_get_state(fx.cli) == HIVE_CLIENT_OPEN) && ms() < end) {
        hive_server_service(fx.srv, 1);
        if (threaded) hive_bus_dispatch(fx.cbus, 0);
        else hive_client_service(fx.cli, 1);
    }
    if (threaded) hive_bus_dispatch(fx.cbus, 0);
    cr_assert_geq(w.invalidated, 1, "%s%s: no new session after the cut", scheme, threaded ? " threaded" : "");
    cr_expect_geq(w.n, 1);
    cr_expect_eq(w.a[0].reason, HIVE_CLOSE_PEER_VANISHED, "the cut is a lost link");
    cr_expect_eq(w.old_cid, (int64_t)first);
    cr_expect_neq(w.new_cid, (int64_t)first, "a new session has a new cid");
    cr_expect_eq(w.inv_reason, HIVE_CLOSE_SESSION_INVALID);
    cr_expect_eq(w.closes, 0, "no close event across a reconnect");
    cr_expect(pump_until_event(fx.srv, NULL, 3000, fx.sr, HIVE_EV_SERVER_CLOSE, 1),
              "the server saw the old link go");
    if (!threaded) {
        cr_expect(both_handshakes(&fx));
        fx_roundtrip(&fx, "after the reconnect");
    }
    hive_client_stop(fx.cli);
    if (threaded) hive_bus_dispatch(fx.cbus, 0);
    cr_expect_eq(w.closes, 1, "one close when the game stops");
    cr_expect_eq(w.close_reason, HIVE_CLOSE_NORMAL);
    fx_fini(&fx);
}

Test(reconnect, a_cut_link_comes_back_as_a_new_session, .timeout = 60)
{
    back_after_a_cut("", false);
    back_after_a_cut("tcp://", false);
}

Test(threads, a_cut_link_comes_back_with_a_threaded_reconnecting_client, .timeout = 60)
{
    back_after_a_cut("tcp://", true);
}

/* Closes the server or the game chose never reconnect. */
static void no_reconnect(bool kick)
{
    test_scheme = "tcp://";
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 20 };
    fixture fx;
    fx_init(&fx, NULL, &cc, true);
    watch w;
    watch_attach(&w, fx.cbus);
    if (kick) {
        cr_assert_eq(hive_server_close(fx.srv, hive_client_cid(fx.cli), HIVE_CLOSE_KICKED, "bye"), 0);
    } else {
        hive_server_destroy(fx.srv);
        fx.srv = NULL;
    }
    cr_assert(pump(fx.srv, fx.cli, 5000, client_gone, fx.cli));
    pump(fx.srv, NULL, 300, NULL, NULL);
    cr_expect_eq(w.n, 0, "%s: reconnected", kick ? "kicked" : "shutdown");
    cr_expect_eq(w.closes, 1);
    cr_expect_eq(w.close_reason, kick ? HIVE_CLOSE_KICKED : HIVE_CLOSE_SERVER_SHUTDOWN);
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_CLOSED);
    fx_fini(&fx);
}

Test(reconnect, never_after_a_kick_or_a_shutdown, .timeout = 30)
{
    no_reconnect(true);
    no_reconnect(false);
}

Test(reconnect, the_game_can_stop_the_attempts, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_server_config sc = { .heartbeat_ms = 50, .heartbeat_timeout_ms = 300 };
    hive_client_config cc = { .reconnect_attempts = HIVE_RECONNECT_FOREVER, .reconnect_delay_ms = 3000 };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    watch w;
    watch_attach(&w, fx.cbus);
    wait_n one = { &w.n, 1 };
    cr_assert(pump(NULL, fx.cli, 5000, reached, &one));
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_RECONNECTING);
    int accepts = rec_count(fx.sr, HIVE_EV_SERVER_ACCEPT);
    cr_assert_eq(hive_client_stop(fx.cli), 0);
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_IDLE);
    cr_expect_eq(w.closes, 1);
    cr_expect_eq(w.close_reason, HIVE_CLOSE_NORMAL);
    cr_expect_eq(w.close_remote, 0);
    cr_expect_eq(w.stops, 1);
    cr_expect_eq(hive_client_service(fx.cli, 10), HIVE_ESTATE, "nothing left to service");
    pump(fx.srv, NULL, 300, NULL, NULL);
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_ACCEPT), accepts, "no dial after the stop");
    cr_expect_eq(w.n, 1);
    /* and the client can connect again by hand */
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 3000));
    fx_fini(&fx);
}
