/*
 * Resume (hive/net.h RESUME, docs/PROTOCOL.md "Resume"): a lost link's
 * session waits on the server; the client comes back with its token and
 * gets the same cid, and every reliable message either side sent arrives
 * exactly once and in order across the cuts. An expired window, an
 * overflowed replay buffer, a forged or reused token each end in a clear
 * refusal and a fresh session, never in loss.
 */
#include "net_test.h"
#include "net/client/client_internal.h"
#include "net/server/server_internal.h"
#include "net/core/ep.h"
#include "net/core/replay.h"

#include <time.h>

/* ------------------------------------------------------------------ */
/* The replay buffer                                                    */
/* ------------------------------------------------------------------ */

static void push(hive__replay *r, uint8_t tag, size_t n)
{
    uint8_t buf[4096];
    memset(buf, tag, n);
    const void *p = buf;
    cr_assert_eq(hive__replay_push(r, &p, &n, 1), HIVE_OK);
}

Test(replay, keeps_what_is_unacknowledged_and_drops_the_rest)
{
    hive__replay r = { .max = 1000 };
    for (int i = 0; i < 5; i++) push(&r, (uint8_t)i, 100);
    cr_expect_eq(r.sent, 5);
    cr_expect_eq(r.bytes, 500);
    cr_expect(hive__replay_covers(&r, 0));
    cr_expect(!hive__replay_covers(&r, 6), "never more than was sent");
    cr_assert_eq(hive__replay_ack(&r, 3), HIVE_OK);
    cr_expect_eq(r.bytes, 200);
    hive__replay_cur cur = { 0 };
    size_t n;
    const uint8_t *p;
    cr_assert(hive__replay_next(&r, &cur, &p, &n));
    cr_expect_eq(cur.seq, 4);
    cr_expect_eq(n, 100);
    cr_expect_eq(p[0], 3, "frame 4 is the one pushed 4th");
    cr_assert(hive__replay_next(&r, &cur, &p, &n));
    cr_expect_eq(cur.seq, 5);
    cr_expect(!hive__replay_next(&r, &cur, &p, &n));
    cr_expect(!hive__replay_next(&r, &cur, &p, &n), "and stays at the end");
    cr_expect(!hive__replay_covers(&r, 2), "the peer said it had 3");
    cr_expect_eq(hive__replay_ack(&r, 2), HIVE_EPROTO, "acks never go back");
    cr_expect_eq(hive__replay_ack(&r, 9), HIVE_EPROTO, "nor past what was sent");
    hive__replay_free(&r);
}

/* Frames spread over many blocks (they start at 4 KiB and double), one
 * larger than a block, acks that end mid-block: every walk gives exactly
 * the unacknowledged frames, in order, byte for byte. */
Test(replay, walks_and_acks_across_blocks)
{
    hive__replay r = { .max = 1u << 20 };
    static uint8_t big[HIVE__REPLAY_BLOCK + 100];
    static size_t len_of[10000];   /* by seq */
    uint64_t sent = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3000; i++) {
            sent++;
            len_of[sent] = 1 + sent % 300;
            push(&r, (uint8_t)sent, len_of[sent]);
            if (i == 1500) {
                sent++;
                memset(big, (uint8_t)sent, sizeof big);
                const void *p = big;
                size_t n = sizeof big;
                len_of[sent] = n;
                cr_assert_eq(hive__replay_push(&r, &p, &n, 1), HIVE_OK);
            }
        }
        uint64_t ack = sent - 777 - (uint64_t)round * 100;
        cr_assert_eq(hive__replay_ack(&r, ack), HIVE_OK);
        hive__replay_cur cur = { 0 };
        const uint8_t *p;
        size_t n, bytes = 0;
        uint64_t want = ack + 1;
        while (hive__replay_next(&r, &cur, &p, &n)) {
            cr_assert_eq(cur.seq, want, "seq %llu, wanted %llu", (unsigned long long)cur.seq,
                         (unsigned long long)want);
            cr_assert_eq(n, len_of[want]);
            cr_assert_eq(p[0], (uint8_t)want);
            cr_assert_eq(p[n - 1], (uint8_t)want);
            bytes += n;
            want++;
        }
        cr_assert_eq(want, sent + 1, "every unacknowledged frame walked");
        cr_assert_eq(bytes, r.bytes);
        cr_assert(hive__replay_whole(&r));
    }
    cr_assert_eq(hive__replay_ack(&r, sent), HIVE_OK);
    cr_expect_eq(r.bytes, 0);
    hive__replay_cur cur = { 0 };
    const uint8_t *p;
    size_t n;
    cr_expect(!hive__replay_next(&r, &cur, &p, &n), "all acknowledged");
    push(&r, 1, 10);
    cr_assert(hive__replay_next(&r, &cur, &p, &n));
    cr_expect_eq(cur.seq, sent + 1);
    hive__replay_free(&r);
}

Test(replay, overflow_marks_the_loss_and_an_ack_heals_it)
{
    hive__replay r = { .max = 1000 };
    for (int i = 0; i < 15; i++) push(&r, (uint8_t)i, 100);
    cr_expect_leq(r.bytes, 1000, "bounded");
    cr_expect_eq(r.lost_upto, 5, "frames 1..5 went unacknowledged");
    cr_expect(!hive__replay_whole(&r));
    cr_expect(!hive__replay_covers(&r, 4));
    cr_expect(hive__replay_covers(&r, 5));
    cr_assert_eq(hive__replay_ack(&r, 6), HIVE_OK);
    cr_expect(hive__replay_whole(&r), "the peer had them after all");
    push(&r, 99, 2000);   /* larger than the whole buffer */
    cr_expect_eq(r.lost_upto, 16);
    hive__replay_free(&r);
}

/* ------------------------------------------------------------------ */
/* Acknowledgements: by bytes received (docs/PROTOCOL.md, "Resume")     */
/* ------------------------------------------------------------------ */

static void got_one(const hive_event *ev, void *u) { (void)ev; (*(int *)u)++; }

typedef struct got_arg { const int *got; int want; } got_arg;
static bool got_reached(void *arg) { const got_arg *a = arg; return *a->got >= a->want; }

/* A burst of small reliable messages well under HIVE__ACK_BYTES: the
 * receiver does not answer every few of them with an ack of its own (a
 * datagram each on ENet); the timer acks what is left. */
Test(acks, small_frames_are_acknowledged_by_bytes_not_by_count, .timeout = 30)
{
    hive_server_config sc = { .heartbeat_ms = 5000, .heartbeat_timeout_ms = 20000 };
    hive_client_config cc = { .reconnect_attempts = 5, .heartbeat_ms = 5000, .heartbeat_timeout_ms = 20000 };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    int got = 0;
    hive_bus_subscribe(fx.sbus, "net:server.recv.game:echo", got_one, &got, NULL);
    hive_cid cid = hive_client_cid(fx.cli);
    hive_conn_stats before, after;
    cr_assert_eq(hive_server_conn_stats(fx.srv, cid, &before), 0);
    enum { BURST = 320 };     /* 320 frames of 12 bytes: 3840 bytes */
    uint64_t t0 = hive_now_ns();
    for (int i = 0; i < BURST; i++) {
        cr_assert_eq(hive_client_send(fx.cli, "game:echo", "\xa8" "12345678", 9), HIVE_OK);
        if (i % 16 == 15) {
            hive_client_service(fx.cli, 0);
            hive_server_service(fx.srv, 0);
        }
    }
    got_arg ga = { &got, BURST };
    cr_assert(pump(fx.srv, fx.cli, 5000, got_reached, &ga), "%d of %d arrived", got, BURST);
    uint64_t ms = (hive_now_ns() - t0) / 1000000u;
    cr_assert_eq(hive_server_conn_stats(fx.srv, cid, &after), 0);
    /* What the server sent meanwhile: acks from the timer (one per
     * HIVE__ACK_DELAY_MS at most), nothing per 32 frames (10 here). */
    uint64_t sent = after.frames_out - before.frames_out;
    cr_expect_leq(sent, 2 + ms / HIVE__ACK_DELAY_MS, "%llu frames back in %llu ms", (unsigned long long)sent,
                  (unsigned long long)ms);
    /* ...and the timer still acknowledges everything soon. */
    hive__conn *cc_conn = fx.cli->ep.conns;
    cr_assert_not_null(cc_conn);
    uint64_t end = hive_now_ns() + 2000000000ull;
    while (cc_conn->rp.acked < cc_conn->rp.sent && hive_now_ns() < end) {
        hive_server_service(fx.srv, 1);
        hive_client_service(fx.cli, 1);
    }
    cr_expect_eq(cc_conn->rp.acked, (uint64_t)BURST);
    cr_expect_eq(cc_conn->rp.bytes, 0, "acknowledged copies are gone");
    fx_fini(&fx);
}

/* Large frames to a sender with the smallest replay buffer: acks come
 * every HIVE__ACK_BYTES (half that buffer), so a steady stream never
 * pushes an unacknowledged frame out and the session stays resumable.
 * Counting frames (an ack per 32) let 32 such frames, twice the buffer,
 * go unacknowledged. */
Test(acks, large_frames_never_overflow_the_smallest_buffer, .timeout = 30)
{
    hive_server_config sc = { .heartbeat_ms = 5000, .heartbeat_timeout_ms = 20000 };
    hive_client_config cc = { .reconnect_attempts = 5, .heartbeat_ms = 5000, .heartbeat_timeout_ms = 20000,
                              .resume_buffer_bytes = HIVE_MIN_RESUME_BUFFER_BYTES };
    fixture fx;
    fx_init(&fx, &sc, &cc, true);
    int got = 0;
    hive_bus_subscribe(fx.sbus, "net:server.recv.game:echo", got_one, &got, NULL);
    static uint8_t body[4003];
    body[0] = 0xc5;           /* bin 16 of 4000 bytes */
    body[1] = 4000 >> 8;
    body[2] = 4000 & 0xff;
    memset(body + 3, 0x5a, 4000);
    hive__conn *k = fx.cli->ep.conns;
    cr_assert_not_null(k);
    enum { FRAMES = 48 };     /* 48 x 4 KB: three times the buffer */
    size_t most = 0;
    for (int i = 0; i < FRAMES; i++) {
        cr_assert_eq(hive_client_send(fx.cli, "game:echo", body, sizeof body), HIVE_OK);
        if (k->rp.bytes > most) most = k->rp.bytes;
        /* Paced by delivery, without waits: the stream outruns the 50 ms
         * timer, as a busy one does. */
        uint64_t end = hive_now_ns() + 5000000000ull;
        while (got < i + 1 && hive_now_ns() < end) {
            hive_client_service(fx.cli, 0);
            hive_server_service(fx.srv, 0);
        }
        cr_assert_eq(got, i + 1, "frame %d did not arrive", i + 1);
        /* One more turn for the ack on its way back. */
        hive_client_service(fx.cli, 0);
    }
    /* lost_upto stays 0 only if no frame ever left the buffer unacknowledged
     * (a later ack would heal the session, but a cut before it would not). */
    cr_expect_eq(k->rp.lost_upto, 0, "frames up to %llu were dropped unacknowledged",
                 (unsigned long long)k->rp.lost_upto);
    cr_expect_lt(most, (size_t)HIVE_MIN_RESUME_BUFFER_BYTES * 3 / 4, "the buffer peaked at %zu bytes", most);
    cr_expect_geq(k->rp.acked, (uint64_t)(FRAMES - 9), "acked %llu of %d", (unsigned long long)k->rp.acked, FRAMES);
    fx_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Both ends streaming across cuts                                      */
/* ------------------------------------------------------------------ */

#define NMSG 100000

typedef struct side {
    uint32_t next_want;      /* the next number expected */
    uint32_t got, dup, ooo;
    int resumed, invalidated, closes, suspended;
    int64_t resumed_cid;
    char first_addr[96], resumed_addr[96];
} side;

static uint32_t msg_num(const hive_event *ev)
{
    hive_msg_view v;
    const msgpack_object *o;
    uint64_t n = UINT32_MAX;
    if (hive_event_msg(ev, &v, &o) == 0) hive_msg_get_uint(o, "n", &n);
    hive_msg_view_free(&v);
    return (uint32_t)n;
}

static void count(side *s, uint32_t n)
{
    if (n == s->next_want) {
        s->next_want++;
        s->got++;
    } else if (n < s->next_want) {
        s->dup++;
    } else {
        s->ooo++;
        s->next_want = n + 1;
    }
}

static void srv_got(const hive_event *ev, void *u) { count(u, msg_num(ev)); }
static void cli_got(const hive_event *ev, void *u) { count(u, msg_num(ev)); }
static void srv_susp(const hive_event *ev, void *u) { (void)ev; ((side *)u)->suspended++; }
static void srv_resumed(const hive_event *ev, void *u)
{
    side *s = u;
    s->resumed++;
    snprintf(s->resumed_addr, sizeof s->resumed_addr, "%s", hive_event_str(ev, "addr"));
}
static void srv_accept(const hive_event *ev, void *u)
{
    side *s = u;
    if (!s->first_addr[0]) snprintf(s->first_addr, sizeof s->first_addr, "%s", hive_event_str(ev, "addr"));
}
static void srv_close(const hive_event *ev, void *u) { (void)ev; ((side *)u)->closes++; }
static void cli_resumed(const hive_event *ev, void *u)
{
    side *s = u;
    s->resumed++;
    s->resumed_cid = hive_event_int(ev, "cid", -1);
}
static void cli_invalid(const hive_event *ev, void *u) { (void)ev; ((side *)u)->invalidated++; }
static void cli_close(const hive_event *ev, void *u) { (void)ev; ((side *)u)->closes++; }

static void num_msg(hive_msg *m, uint32_t n)
{
    hive_msg_reset(m);
    hive_msg_map(m, 1);
    hive_msg_kv_uint(m, "n", n);
}

static void stream_across_cuts(const char *scheme, const char *netsim)
{
    test_scheme = scheme;
    hive_server_config sc = { .heartbeat_ms = 100, .heartbeat_timeout_ms = 1000 };
    hive_client_config cc = { .reconnect_attempts = 50, .reconnect_delay_ms = 20, .reconnect_max_delay_ms = 200,
                              .netsim = netsim };
    fixture fx;
    fx_init(&fx, &sc, &cc, false);
    static side S, C;
    memset(&S, 0, sizeof S);
    memset(&C, 0, sizeof C);
    /* game:chat is echoed by the fixture's server: the streams use
     * game:echo towards the server and game:chat towards the client. */
    hive_bus_subscribe(fx.sbus, "net:server.recv.game:echo", srv_got, &S, NULL);
    hive_bus_subscribe(fx.sbus, HIVE_EV_SERVER_SUSPENDED, srv_susp, &S, NULL);
    hive_bus_subscribe(fx.sbus, HIVE_EV_SERVER_RESUMED, srv_resumed, &S, NULL);
    hive_bus_subscribe(fx.sbus, HIVE_EV_SERVER_ACCEPT, srv_accept, &S, NULL);
    hive_bus_subscribe(fx.sbus, HIVE_EV_SERVER_CLOSE, srv_close, &S, NULL);
    hive_bus_subscribe(fx.cbus, "net:client.recv.game:chat", cli_got, &C, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_RESUMED, cli_resumed, &C, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_SESSION_INVALIDATED, cli_invalid, &C, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_CLOSE, cli_close, &C, NULL);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000), "%s: no handshake", scheme);
    hive_cid cid = hive_client_cid(fx.cli);
    hive_msg m;
    hive_msg_init(&m);
    uint32_t to_srv = 0, to_cli = 0;
    uint64_t end = hive_now_ns() + 4000000000ull;
    while (hive_now_ns() < end) {
        for (int i = 0; i < 4; i++) {
            num_msg(&m, to_cli);
            if (hive_server_send_msg(fx.srv, cid, "game:chat", &m) == HIVE_OK) to_cli++;
            num_msg(&m, to_srv);
            if (hive_client_send_msg(fx.cli, "game:echo", &m) == HIVE_OK) to_srv++;
        }
        hive_server_service(fx.srv, 1);
        hive_client_service(fx.cli, 1);
    }
    /* Drain: no more cuts matter once both have everything. */
    uint64_t drain = hive_now_ns() + 20000000000ull;
    while ((S.next_want < to_srv || C.next_want < to_cli) && hive_now_ns() < drain) {
        hive_server_service(fx.srv, 1);
        hive_client_service(fx.cli, 1);
    }
    hive_msg_free(&m);
    cr_expect_gt(C.resumed, 0, "%s: no resume happened", scheme);
    cr_expect_eq(C.resumed_cid, (int64_t)cid, "%s: the same session", scheme);
    cr_expect_eq(hive_client_cid(fx.cli), cid);
    cr_expect_eq(C.invalidated, 0, "%s", scheme);
    cr_expect_eq(C.closes, 0, "%s", scheme);
    cr_expect_eq(S.closes, 0, "%s: the session never closed on the server", scheme);
    cr_expect_gt(S.resumed, 0, "%s", scheme);
    cr_expect_eq(S.got, to_srv, "%s: server got %u of %u", scheme, S.got, to_srv);
    cr_expect_eq(C.got, to_cli, "%s: client got %u of %u", scheme, C.got, to_cli);
    cr_expect_eq(S.dup + S.ooo + C.dup + C.ooo, 0, "%s: dup %u/%u, out of order %u/%u", scheme, S.dup, C.dup,
                 S.ooo, C.ooo);
    cr_expect_gt(to_srv, 1000);
    cr_expect_gt(to_cli, 1000);
    hive_conn_stats st;
    cr_assert_eq(hive_client_conn_stats(fx.cli, &st), 0);
    cr_expect_eq(st.resumes, (uint32_t)C.resumed);
    cr_assert_eq(hive_server_conn_stats(fx.srv, cid, &st), 0);
    cr_expect_eq(st.resumes, (uint32_t)S.resumed);
    if (strcmp(scheme, "tcp://") == 0)
        cr_expect_str_neq(S.resumed_addr, S.first_addr, "each tcp link has its own source port: a new address");
    fx_fini(&fx);
}

Test(resume, nothing_lost_nothing_twice_across_cuts_tcp, .timeout = 60)
{
    stream_across_cuts("tcp://", "cut_every=500ms,seed=4");
}

Test(resume, nothing_lost_nothing_twice_across_cuts_enet, .timeout = 60)
{
    stream_across_cuts("", "cut_every=500ms,latency=5ms,seed=4");
}

/* ------------------------------------------------------------------ */
/* Refusals                                                             */
/* ------------------------------------------------------------------ */

typedef struct ends {
    int handshakes, invalidated, resumed;
    int64_t inv_old_cid;
    int srv_closes;
    int64_t srv_close_reason;
} ends;

static void e_hs(const hive_event *ev, void *u) { (void)ev; ((ends *)u)->handshakes++; }
static void e_inv(const hive_event *ev, void *u)
{
    ends *e = u;
    e->invalidated++;
    e->inv_old_cid = hive_event_int(ev, "old_cid", -1);
}
static void e_res(const hive_event *ev, void *u) { (void)ev; ((ends *)u)->resumed++; }
static void e_sclose(const hive_event *ev, void *u)
{
    ends *e = u;
    e->srv_closes++;
    e->srv_close_reason = hive_event_int(ev, "reason", -1);
}

static void ends_attach(ends *e, fixture *fx)
{
    memset(e, 0, sizeof *e);
    hive_bus_subscribe(fx->cbus, HIVE_EV_CLIENT_HANDSHAKE, e_hs, e, NULL);
    hive_bus_subscribe(fx->cbus, HIVE_EV_CLIENT_SESSION_INVALIDATED, e_inv, e, NULL);
    hive_bus_subscribe(fx->cbus, HIVE_EV_CLIENT_RESUMED, e_res, e, NULL);
    hive_bus_subscribe(fx->sbus, HIVE_EV_SERVER_CLOSE, e_sclose, e, NULL);
}

static bool two_handshakes(void *arg) { return ((ends *)arg)->handshakes >= 2; }

/* The window ends before the client is back: the server closes the
 * session with timeout; the client's resume is refused; it says so and
 * starts a new session. */
Test(resume, an_expired_window_ends_in_a_new_session, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_server_config sc = { .resume_window_ms = 150 };
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 800, .netsim = "cut_every=400ms,seed=2" };
    fixture fx;
    fx_init(&fx, &sc, &cc, false);
    ends e;
    ends_attach(&e, &fx);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000));
    hive_cid cid = hive_client_cid(fx.cli);
    cr_assert(pump(fx.srv, fx.cli, 10000, two_handshakes, &e), "no new session");
    cr_expect_eq(e.resumed, 0);
    cr_expect_eq(e.invalidated, 1);
    cr_expect_eq(e.inv_old_cid, (int64_t)cid);
    cr_expect_geq(e.srv_closes, 1);
    const rec_event *c = rec_find(fx.sr, HIVE_EV_SERVER_CLOSE);
    cr_assert_not_null(c);
    cr_expect_eq(c->cid, (int64_t)cid);
    cr_expect_str_eq(c->reason_name, "timeout", "the window ran out");
    cr_expect_neq(hive_client_cid(fx.cli), cid);
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(fx.srv, &st), 0);
    cr_expect_eq(st.resumes_refused, 1);
    fx_fini(&fx);
}

static bool suspended_now(void *arg)
{
    return rec_count(arg, HIVE_EV_SERVER_SUSPENDED) >= 1;
}

/* While the client is away the server sends more than the replay buffer
 * holds: the session ends at once with session_invalid (never a silent
 * loss), and the client starts over. */
Test(resume, an_overflowed_replay_buffer_is_said_not_lost, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_server_config sc = { .resume_buffer_bytes = 65536 };
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 1500, .netsim = "cut_every=300ms,seed=9" };
    fixture fx;
    fx_init(&fx, &sc, &cc, false);
    ends e;
    ends_attach(&e, &fx);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000));
    hive_cid cid = hive_client_cid(fx.cli);
    cr_assert(pump(fx.srv, fx.cli, 5000, suspended_now, fx.sr), "the server never suspended the session");
    char big[1000];
    memset(big, 'x', sizeof big);
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_str(&m, "text", "");
    int sent = 0;
    for (int i = 0; i < 100; i++) {
        hive_msg_reset(&m);
        hive_msg_map(&m, 1);
        hive_msg_kv_bin(&m, "blob", big, sizeof big);
        if (hive_server_send_msg(fx.srv, cid, "game:echo", &m) == HIVE_OK) sent++;
        else break;
    }
    hive_msg_free(&m);
    cr_expect_gt(sent, 60, "sends to a suspended session are kept (%d)", sent);
    cr_expect_eq(e.srv_closes, 1, "the overflow ends the session");
    cr_expect_eq(e.srv_close_reason, HIVE_CLOSE_SESSION_INVALID);
    cr_assert(pump(fx.srv, fx.cli, 10000, two_handshakes, &e), "no new session");
    cr_expect_eq(e.invalidated, 1);
    cr_expect_eq(e.resumed, 0);
    fx_fini(&fx);
}

/* A resume frame from a raw peer: cid of a live session, token forged. */
static int raw_resume(fixture *fx, hive_cid cid, const uint8_t *token)
{
    raw_peer p;
    raw_connect(&p, fx->srv);
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(hive__resume_pack(&m, "hive", cid, token, 0, NULL, 65536), 0);
    raw_send_frame(&p, HIVE__PID_RESUME, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    uint32_t pid = 0;
    int reason = -1;
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (hive_now_ns() < end && reason < 0) {
        hive_server_service(fx->srv, 1);
        hive_client_service(fx->cli, 1);
        raw_service(&p, 1);
        reason = raw_close_reason(&p, &pid);
    }
    cr_expect_eq(pid, HIVE__PID_REJECT);
    raw_destroy(&p);
    return reason;
}

Test(resume, a_forged_or_used_token_is_refused_and_the_session_plays_on, .timeout = 30)
{
    test_scheme = "";
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 20 };
    fixture fx;
    fx_init(&fx, NULL, &cc, true);
    hive_cid cid = hive_client_cid(fx.cli);
    uint8_t forged[HIVE__RESUME_TOKEN];
    memset(forged, 0x5a, sizeof forged);
    cr_expect_eq(raw_resume(&fx, cid, forged), HIVE_CLOSE_SESSION_INVALID);
    /* The real token, copied (as a thief would), after the client used it
     * once: tokens are single-use. */
    hive__conn *k = fx.cli->ep.conns;
    cr_assert_not_null(k);
    cr_assert(k->has_token, "the welcome carried a token");
    uint8_t stolen[HIVE__RESUME_TOKEN];
    memcpy(stolen, k->token, sizeof stolen);
    fx_roundtrip(&fx, "still here");
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(fx.srv, &st), 0);
    cr_expect_eq(st.resumes_refused, 1);
    hive_conn_info ci;
    cr_assert_eq(hive_server_conn_info(fx.srv, cid, &ci), 0);
    cr_expect(ci.open, "the real session was not touched");
    /* The thief's copy works only while it is the current token: show
     * that after the owner resumes, the copy is dead. Cut the owner's link
     * by aborting it at the transport (a lost link). */
    fx.cli->ep.tr->vt->abort(fx.cli->ep.tr, k->link);
    k->link = NULL;
    hive__ep_close(&fx.cli->ep, k, HIVE_CLOSE_PEER_VANISHED, NULL, true, HIVE__CLOSE_SILENT, false);
    hive__ep_conn_free(&fx.cli->ep, k);
    int before = rec_count(fx.cr, HIVE_EV_CLIENT_RESUMED);
    cr_assert(pump_until_event(fx.srv, fx.cli, 5000, fx.cr, HIVE_EV_CLIENT_RESUMED, before + 1), "no resume");
    cr_expect_eq(hive_client_cid(fx.cli), cid);
    cr_expect_eq(raw_resume(&fx, cid, stolen), HIVE_CLOSE_SESSION_INVALID, "a used token is refused");
    fx_roundtrip(&fx, "still the same session");
    cr_expect_eq(hive_client_cid(fx.cli), cid);
    fx_fini(&fx);
}

/* ------------------------------------------------------------------ */
/* Links lost at the worst moments                                      */
/* ------------------------------------------------------------------ */

/* The client's link is lost as the network loses one: cut at the
 * transport, so whatever was still in flight either way is gone. */
static void cut_client(fixture *fx)
{
    hive__conn *k = fx->cli->ep.conns;
    cr_assert_not_null(k);
    cr_assert_not_null(k->link);
    fx->cli->ep.tr->vt->abort(fx->cli->ep.tr, k->link);
    k->link = NULL;
    hive__ep_close(&fx->cli->ep, k, HIVE_CLOSE_PEER_VANISHED, NULL, true, HIVE__CLOSE_SILENT, false);
    hive__ep_conn_free(&fx->cli->ep, k);
}

static bool resumed_or_invalidated(void *arg)
{
    ends *e = arg;
    return e->resumed > 0 || e->invalidated > 0;
}

/* Index of the first `name` in r, or -1. */
static int rec_index(const recorder *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->ev[i].name, name) == 0) return i;
    return -1;
}

/* The server takes a resume and hands out a new token in resumed, and
 * the link is lost before resumed reaches the client (the simulator
 * holds everything the client receives for 400 ms; the cut drops it).
 * The client only has the token it just showed: the server still takes
 * it, once more, and the session goes on. Once the client has shown that
 * it holds the new token, the old one is dead. */
static void resumed_lost_in_flight(const char *scheme)
{
    test_scheme = scheme;
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 20,
                              .netsim = "latency=400ms,dir=recv" };
    fixture fx;
    fx_init(&fx, NULL, &cc, false);
    ends e;
    ends_attach(&e, &fx);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000), "%s: no handshake", scheme);
    hive_cid cid = hive_client_cid(fx.cli);
    uint8_t first[HIVE__RESUME_TOKEN];
    cr_assert(fx.cli->ep.conns->has_token);
    memcpy(first, fx.cli->ep.conns->token, sizeof first);

    cut_client(&fx);
    cr_assert(pump_until_event(fx.srv, fx.cli, 5000, fx.sr, HIVE_EV_SERVER_RESUMED, 1),
              "%s: the server never took the resume", scheme);
    cr_assert_eq(e.resumed, 0, "%s: resumed is still in flight", scheme);
    cut_client(&fx);

    cr_assert(pump(fx.srv, fx.cli, 5000, resumed_or_invalidated, &e), "%s: the client never came back", scheme);
    cr_expect_eq(e.invalidated, 0, "%s: the session was refused", scheme);
    cr_expect_eq(e.resumed, 1, "%s", scheme);
    cr_expect_eq(e.srv_closes, 0, "%s", scheme);
    cr_expect_eq(hive_client_cid(fx.cli), cid, "%s: the same session", scheme);
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(fx.srv, &st), 0);
    cr_expect_eq(st.resumes_refused, 0, "%s", scheme);
    cr_expect_eq(st.resumes, 2, "%s", scheme);
    fx_roundtrip(&fx, "after two resumes");
    if (!*scheme) {
        /* The client has sent on its resumed link: the first token is
         * spent for good, and a thief's copy of it gets nothing. */
        cr_expect_eq(raw_resume(&fx, cid, first), HIVE_CLOSE_SESSION_INVALID, "a spent token is refused");
        fx_roundtrip(&fx, "still the same session");
        cr_expect_eq(hive_client_cid(fx.cli), cid);
    }
    fx_fini(&fx);
}

Test(resume, resumed_lost_in_flight_tcp, .timeout = 30) { resumed_lost_in_flight("tcp://"); }
Test(resume, resumed_lost_in_flight_enet, .timeout = 30) { resumed_lost_in_flight(""); }

/* The client has the welcome (and with it the token) and sent ready and
 * a message, and the link is lost before they reach the server (the
 * simulator holds what the client sends for 400 ms; the cut drops it).
 * The client believes itself open and asks for a resume: the server,
 * which kept the session quietly, takes the resume in place of the
 * ready, completes the handshake, and the message arrives once. */
static void ready_lost_in_flight(const char *scheme)
{
    test_scheme = scheme;
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 20,
                              .netsim = "latency=400ms,dir=send" };
    fixture fx;
    fx_init(&fx, NULL, &cc, false);
    ends e;
    ends_attach(&e, &fx);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump(fx.srv, fx.cli, 5000, client_open, fx.cli), "%s: no welcome", scheme);
    hive_cid cid = hive_client_cid(fx.cli);
    hive_msg m;
    text_msg(&m, "sent before the cut");
    cr_assert_eq(hive_client_send_msg(fx.cli, "game:chat", &m), 0);
    hive_msg_free(&m);
    hive_conn_info ci;
    cr_assert_eq(hive_server_conn_info(fx.srv, cid, &ci), 0);
    cr_assert(!ci.open, "%s: the ready is still in flight", scheme);
    cut_client(&fx);

    cr_assert(pump(fx.srv, fx.cli, 5000, resumed_or_invalidated, &e), "%s: the client never came back", scheme);
    cr_expect_eq(e.invalidated, 0, "%s: the session was refused", scheme);
    cr_expect_eq(e.resumed, 1, "%s", scheme);
    cr_expect_eq(hive_client_cid(fx.cli), cid, "%s: the same session", scheme);
    cr_assert(pump_until_event(fx.srv, fx.cli, 3000, fx.cr, "net:client.recv.game:echo", 1),
              "%s: the message sent before the cut never arrived", scheme);
    pump(fx.srv, fx.cli, 200, NULL, NULL);
    cr_expect_eq(rec_count(fx.sr, "net:server.recv.game:chat"), 1, "%s: exactly once", scheme);
    cr_expect_eq(e.srv_closes, 0, "%s: the session never closed on the server", scheme);
    /* The application saw one handshake, then the resume, and no
     * suspension of a session it had never seen open. */
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_HANDSHAKE), 1, "%s", scheme);
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_SUSPENDED), 0, "%s", scheme);
    int hs = rec_index(fx.sr, HIVE_EV_SERVER_HANDSHAKE), rs = rec_index(fx.sr, HIVE_EV_SERVER_RESUMED);
    cr_expect(hs >= 0 && rs > hs, "%s: handshakecomplete (%d) before resumed (%d)", scheme, hs, rs);
    cr_expect_eq(rec_count(fx.cr, HIVE_EV_CLIENT_HANDSHAKE), 1, "%s: one handshake on the client", scheme);
    cr_assert_eq(hive_server_conn_info(fx.srv, cid, &ci), 0);
    cr_expect(ci.open, "%s", scheme);
    fx_roundtrip(&fx, "and on it goes");
    fx_fini(&fx);
}

Test(resume, ready_lost_in_flight_tcp, .timeout = 30) { ready_lost_in_flight("tcp://"); }
Test(resume, ready_lost_in_flight_enet, .timeout = 30) { ready_lost_in_flight(""); }

/* A session lost before its ready, whose client never comes back, is
 * not open to sends meanwhile and ends with its window like any other. */
Test(resume, a_session_lost_before_ready_takes_no_sends_and_times_out, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_server_config sc = { .resume_window_ms = 300 };
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 5000,
                              .netsim = "latency=300ms,dir=send" };
    fixture fx;
    fx_init(&fx, &sc, &cc, false);
    ends e;
    ends_attach(&e, &fx);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump(fx.srv, fx.cli, 5000, client_open, fx.cli), "no welcome");
    hive_cid cid = hive_client_cid(fx.cli);
    cut_client(&fx);
    /* the server notices the loss; the client waits out its 2.5..5 s delay */
    hive__conn *sc_conn = NULL;
    uint64_t end = hive_now_ns() + 2000000000ull;
    while (hive_now_ns() < end) {
        hive_server_service(fx.srv, 1);
        sc_conn = hive__cidmap_get(&fx.srv->map, cid);
        if (sc_conn && sc_conn->state == HIVE__C_SUSPENDED) break;
    }
    cr_assert(sc_conn && sc_conn->state == HIVE__C_SUSPENDED, "the session was not kept");
    hive_msg m;
    text_msg(&m, "to nobody yet");
    cr_expect_eq(hive_server_send_msg(fx.srv, cid, "game:echo", &m), HIVE_ESTATE);
    cr_expect_eq(hive_server_broadcast(fx.srv, "game:echo", hive_msg_data(&m), hive_msg_size(&m), 0), 0,
                 "no open session to broadcast to");
    hive_msg_free(&m);
    pump(fx.srv, NULL, 600, NULL, NULL);
    const rec_event *c = fx_server_close(&fx, (int64_t)cid);
    cr_assert_not_null(c, "the window ran out");
    cr_expect_str_eq(c->reason_name, "timeout");
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_HANDSHAKE), 0);
    cr_expect_eq(rec_count(fx.sr, HIVE_EV_SERVER_SUSPENDED), 0);
    fx_fini(&fx);
}

/* The client's transport, watched: how many reliable sends it is asked
 * for (the simulator under it draws a loss per send). */
static const hive__transport_vt *g_real_vt;
static hive__transport_vt g_count_vt;
static int g_rel_sends;
static int count_send(hive__transport *t, hive__link *l, const void *const *p, const size_t *lens, int n,
                      int dlv)
{
    if (dlv == HIVE__DLV_RELIABLE) g_rel_sends++;
    return g_real_vt->send(t, l, p, lens, n, dlv);
}

typedef struct replay_seen { int sends; int64_t replayed; } replay_seen;
static void on_cli_resumed(const hive_event *ev, void *u)
{
    replay_seen *r = u;
    r->sends = g_rel_sends;
    r->replayed = hive_event_int(ev, "replayed", -1);
}

/* 400 small messages are lost with the link (the simulator still held
 * them); the resume sends them again a packet's worth at a time, not one
 * send each, and each arrives once. */
Test(resume, a_replay_goes_a_packet_at_a_time, .timeout = 30)
{
    test_scheme = "tcp://";
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 20,
                              .netsim = "latency=300ms,dir=send" };
    fixture fx;
    fx_init(&fx, NULL, &cc, false);
    ends e;
    ends_attach(&e, &fx);
    replay_seen rs = { -1, -1 };
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_RESUMED, on_cli_resumed, &rs, NULL);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000));
    hive_msg m;
    text_msg(&m, "kept for the replay");
    for (int i = 0; i < 400; i++) cr_assert_eq(hive_client_send_msg(fx.cli, "game:echo", &m), 0);
    hive_msg_free(&m);
    g_real_vt = fx.cli->ep.tr->vt;
    g_count_vt = *g_real_vt;
    g_count_vt.send = count_send;
    fx.cli->ep.tr->vt = &g_count_vt;
    g_rel_sends = 0;
    cut_client(&fx);
    cr_assert(pump(fx.srv, fx.cli, 5000, resumed_or_invalidated, &e), "the client never came back");
    cr_assert_eq(e.resumed, 1);
    cr_expect_eq(rs.replayed, 400, "everything was still in flight");
    /* the resume, about 24 bytes x 400 in 1200-byte sends, the ack */
    cr_expect_leq(rs.sends, 12, "%d sends for a replay of %lld frames", rs.sends, (long long)rs.replayed);
    cr_expect(pump_until_event(fx.srv, fx.cli, 5000, fx.sr, "net:server.recv.game:echo", 400));
    pump(fx.srv, fx.cli, 100, NULL, NULL);
    cr_expect_eq(rec_count(fx.sr, "net:server.recv.game:echo"), 400, "each exactly once");
    fx.cli->ep.tr->vt = g_real_vt;
    fx_fini(&fx);
}

Test(resume, limits_are_checked_at_create)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_expect_null(hive_server_create(&(hive_server_config){ .resume_window_ms = 50 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "resume_window_ms");
    cr_expect_null(hive_server_create(&(hive_server_config){ .resume_buffer_bytes = 1000 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "resume_buffer_bytes");
    cr_expect_null(hive_client_create(&(hive_client_config){ .resume_buffer_bytes = 1000 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "resume_buffer_bytes");
    hive_server *s = hive_server_create(&(hive_server_config){ .resume_window_ms = -1 }, bus);
    cr_assert_not_null(s);
    hive_server_config got;
    cr_assert_eq(hive_server_config_get(s, &got), 0);
    cr_expect_eq(got.resume_window_ms, -1);
    cr_expect_eq(got.resume_buffer_bytes, HIVE_DEFAULT_RESUME_BUFFER_BYTES);
    hive_server_destroy(s);
    s = hive_server_create(NULL, bus);
    cr_assert_eq(hive_server_config_get(s, &got), 0);
    cr_expect_eq(got.resume_window_ms, HIVE_DEFAULT_RESUME_WINDOW_MS);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

/* ------------------------------------------------------------------ */
/* The client's sends between links                                     */
/* ------------------------------------------------------------------ */

static void on_reconnecting(const hive_event *ev, void *u) { (void)ev; (*(int *)u)++; }
static bool reconnecting_now(void *arg) { return hive_client_get_state(arg) == HIVE_CLIENT_RECONNECTING; }

typedef struct kept_arg { side *s; uint32_t want; } kept_arg;
static bool all_kept_arrived(void *arg)
{
    kept_arg *a = arg;
    return a->s->got + a->s->dup + a->s->ooo >= a->want;
}

/* While the client is away (between reconnect attempts) the game keeps
 * sending: the reliable messages wait in the session and arrive, once and
 * in order, after the resume; the buffer's bound is a clear HIVE_EFULL,
 * never a silent loss nor an unresumable session. */
static void sends_while_away(size_t buffer, int blob)
{
    test_scheme = "tcp://";
    hive_client_config cc = { .reconnect_attempts = 5, .reconnect_delay_ms = 300, .reconnect_max_delay_ms = 400,
                              .resume_buffer_bytes = buffer, .netsim = "cut_every=400ms,seed=4" };
    fixture fx;
    fx_init(&fx, NULL, &cc, false);
    static side S;
    memset(&S, 0, sizeof S);
    ends e;
    ends_attach(&e, &fx);
    int reconnects = 0;
    hive_bus_subscribe(fx.sbus, "net:server.recv.game:echo", srv_got, &S, NULL);
    hive_bus_subscribe(fx.cbus, HIVE_EV_CLIENT_RECONNECTING, on_reconnecting, &reconnects, NULL);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump_both_open(fx.srv, fx.cli, 5000));
    hive_cid cid = hive_client_cid(fx.cli);
    cr_assert(pump(fx.srv, fx.cli, 5000, reconnecting_now, fx.cli), "the link was never cut");
    hive_msg m;
    hive_msg_init(&m);
    char big[2000];
    memset(big, 'k', sizeof big);
    uint32_t kept = 0;
    int rc = HIVE_OK;
    for (uint32_t i = 0; i < 200; i++) {
        hive_msg_reset(&m);
        hive_msg_map(&m, blob ? 2 : 1);
        hive_msg_kv_uint(&m, "n", i);
        if (blob) hive_msg_kv_bin(&m, "blob", big, (size_t)blob);
        rc = hive_client_send_msg(fx.cli, "game:echo", &m);
        if (rc != HIVE_OK) break;
        kept++;
    }
    /* An unreliable message between links is dropped, not an error. */
    cr_expect_eq(hive_client_send_id(fx.cli, (uint32_t)hive_client_packet_id(fx.cli, "game:echo"), "\xc0", 1,
                                     HIVE_SEND_UNRELIABLE),
                 HIVE_OK);
    hive_msg_free(&m);
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_RECONNECTING, "the sends happened between links");
    if (blob) {
        cr_expect_eq(rc, HIVE_EFULL, "the session's buffer is bounded");
        cr_expect_gt(kept, 10, "kept %u", kept);
    } else {
        cr_expect_eq(rc, HIVE_OK);
        cr_expect_eq(kept, 200);
    }
    kept_arg ka = { &S, kept };
    cr_assert(pump(fx.srv, fx.cli, 10000, all_kept_arrived, &ka), "the server got %u of %u kept messages", S.got,
              kept);
    cr_expect_eq(S.got, kept);
    cr_expect_eq(S.dup + S.ooo, 0, "once each, in order (dup %u, out of order %u)", S.dup, S.ooo);
    cr_expect_geq(e.resumed, 1);
    cr_expect_eq(e.invalidated, 0, "the session stayed whole");
    cr_expect_eq(hive_client_cid(fx.cli), cid);
    fx_fini(&fx);
}

Test(resume, client_sends_between_links_arrive_after_the_resume, .timeout = 30)
{
    sends_while_away(0, 0);
}

Test(resume, client_sends_between_links_stop_at_the_buffer_bound, .timeout = 30)
{
    sends_while_away(65536, 2000);
}
