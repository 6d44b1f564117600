/*
 * enet_sendq.h - the bounded-send-queue scenarios over enet:// (tests/net)
 * and enet+tls:// (tests/tls): a peer whose ENet never acknowledges what
 * the server sends, while a good client keeps playing.
 *
 *   EQ_STALLED: a real Hive client that stops servicing (its thread never
 *     calls hive_client_service again) while the server's game sends it a
 *     1 KiB reliable frame after frame, as a game sends state each tick.
 *     Nothing it is sent is acknowledged.
 *   EQ_WITHHOLD: a real Hive client behind tests/support/ackstrip.h, which
 *     removes every acknowledgement it sends: it keeps receiving, and
 *     keeps sending reliable pings with a 4 KiB body as fast as it can;
 *     the pongs the server owes it can only pile up there.
 *
 * Measured with the counting allocator (every Hive object in this process,
 * the good client and the peer included): the most memory held above what
 * was held before. Recorded on the server's bus: the peer's backpressure
 * event and close (reason, order), and the good client's round trips.
 */
#ifndef HIVE_TESTS_ENET_SENDQ_H
#define HIVE_TESTS_ENET_SENDQ_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hive/hive.h"
#include "net/client/client_internal.h"
#include "net/wire/frame.h"
#include "tests/support/ackstrip.h"
#include "tests/support/countalloc.h"

enum { EQ_STALLED, EQ_WITHHOLD };

#define EQ_STATE_BODY 1024
#define EQ_PING_BODY  4096
#define EQ_PEER_QUEUE (32 * 1024)   /* the withholding peer sends while its own queue is under this */

typedef struct eq_run {
    int mode;
    hive_bus *sbus, *gbus, *pbus;
    hive_server *srv;
    hive_client *good, *peer;
    hive_cid good_cid, peer_cid;
    ackstrip proxy;
    bool hostile;                    /* the peer has turned hostile */
    int good_recv;
    int close_reason;                /* the peer's close, -1 none */
    char close_name[32];
    char close_msg[160];
    int bp_at, close_at, nev;        /* order of the peer's events */
    int64_t bp_queued;
    int send_efull;                  /* server sends to the peer refused with HIVE_EFULL */
    uint64_t state_sent, pings_sent;
    long base, peak, peak_at_close;
    long max_live;                   /* most live bytes between two steps, until the close */
    int roundtrips, missed;
    bool good_open_at_end;
    uint64_t flood_ms;
    hive_net_stats stats;
} eq_run;

static void eq_echo(const hive_event *ev, void *user)
{
    eq_run *r = user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0) return;
    hive_server_send(r->srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:chat", raw, len);
}

static void eq_server_event(const hive_event *ev, void *user)
{
    eq_run *r = user;
    hive_cid cid = (hive_cid)hive_event_int(ev, "cid", 0);
    if (!cid || cid != r->peer_cid) return;
    r->nev++;
    if (strcmp(ev->name, HIVE_EV_SERVER_BACKPRESSURE) == 0 && r->bp_at < 0) {
        r->bp_at = r->nev;
        r->bp_queued = hive_event_int(ev, "queued_bytes", -1);
    }
    if (strcmp(ev->name, HIVE_EV_SERVER_CLOSE) == 0 && r->close_reason < 0) {
        r->close_at = r->nev;
        r->close_reason = (int)hive_event_int(ev, "reason", -1);
        const char *s = hive_event_str(ev, "reason_name");
        snprintf(r->close_name, sizeof r->close_name, "%s", s ? s : "");
        s = hive_event_str(ev, "message");
        snprintf(r->close_msg, sizeof r->close_msg, "%s remote=%d", s ? s : "", (int)hive_event_int(ev, "remote", -1));
    }
}

static void eq_good_recv(const hive_event *ev, void *user)
{
    (void)ev;
    ((eq_run *)user)->good_recv++;
}

/* The peer's part of one step: a stalled peer does nothing at all; the
 * withholding one sends a burst of pings, reads, and its relay runs. */
static inline void eq_peer_step(eq_run *r)
{
    if (r->mode == EQ_STALLED) return;
    struct hive_client *c = (struct hive_client *)r->peer;
    /* Once the server has closed it the peer stops: what it sends then
     * lands in a reset ENet slot and only its own queue would grow (it
     * lives in this process, and the counting allocator sees it). */
    if (r->proxy.strip && r->close_reason < 0 && hive_client_get_state(r->peer) == HIVE_CLIENT_OPEN && c->ep.conns) {
        static uint8_t body[EQ_PING_BODY + 3];
        body[0] = 0xc5;   /* bin 16: the pong echoes it */
        body[1] = (uint8_t)(EQ_PING_BODY >> 8);
        body[2] = (uint8_t)(EQ_PING_BODY & 0xff);
        /* As fast as the server takes them, no faster: the peer's own
         * queue lives in this process too, and is kept small. */
        for (int i = 0; i < 8 && hive__ep_sendq(&c->ep, c->ep.conns) < EQ_PEER_QUEUE; i++)
            if (hive__ep_send_frame(&c->ep, c->ep.conns, HIVE__PID_PING, body, sizeof body, true) == HIVE_OK)
                r->pings_sent++;
    }
    ackstrip_pump(&r->proxy);
    hive_client_service(r->peer, 0);
    ackstrip_pump(&r->proxy);
}

/* The server's game towards the stalled peer: state, 1 KiB at a time. */
static inline void eq_game_step(eq_run *r)
{
    if (r->mode != EQ_STALLED || !r->hostile || r->close_reason >= 0) return;
    static uint8_t body[EQ_STATE_BODY + 3];
    body[0] = 0xc5;
    body[1] = (uint8_t)(EQ_STATE_BODY >> 8);
    body[2] = (uint8_t)(EQ_STATE_BODY & 0xff);
    for (int i = 0; i < 8; i++) {
        int rc = hive_server_send(r->srv, r->peer_cid, "game:state", body, sizeof body);
        if (rc == HIVE_EFULL) r->send_efull++;
        if (rc != HIVE_OK) break;
        r->state_sent++;
    }
}

static inline void eq_step(eq_run *r)
{
    eq_game_step(r);
    hive_server_service(r->srv, 1);
    hive_client_service(r->good, 0);
    eq_peer_step(r);
    long live = countalloc_live();
    if (r->hostile && r->close_reason < 0 && live > r->max_live) r->max_live = live;
}

static inline void eq_pump(eq_run *r, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    do eq_step(r); while (hive_now_ns() < end);
}

/* One round trip of the good client: true when its echo came back in ms. */
static inline bool eq_roundtrip(eq_run *r, int n, int ms)
{
    int before = r->good_recv;
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_int(&m, "n", n);
    int rc = hive_client_send_msg(r->good, "game:chat", &m);
    hive_msg_free(&m);
    if (rc != HIVE_OK) return false;
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (r->good_recv == before && hive_now_ns() < end) eq_step(r);
    return r->good_recv > before;
}

static inline hive_client *eq_client(eq_run *r, hive_bus *bus, const char *scheme, const char *host,
                                     uint16_t port, const hive_tls_config *ct, uint32_t hbt)
{
    hive_client_config cc = { .heartbeat_ms = 300, .heartbeat_timeout_ms = hbt };
    if (ct) cc.tls = *ct;
    hive_client *c = hive_client_create(&cc, bus);
    cr_assert_not_null(c, "%s", hive_create_error()->message);
    char a[96];
    snprintf(a, sizeof a, "%s://%s:%u", scheme, host, (unsigned)port);
    cr_assert_eq(hive_client_connect(c, a), HIVE_OK);
    (void)r;
    return c;
}

/*
 * Runs one scenario over scheme ("enet" or "enet+tls") with the server's
 * send_queue_bytes = bound, for at most max_ms after the peer turns
 * hostile. st/ct: TLS configs (NULL on enet). Restores the C library's
 * allocator at the end.
 */
static inline void eq_run_scenario(eq_run *r, int mode, const char *scheme, size_t bound,
                                   const hive_tls_config *st, const hive_tls_config *ct, int max_ms)
{
    memset(r, 0, sizeof *r);
    r->mode = mode;
    r->close_reason = -1;
    r->bp_at = r->close_at = -1;
    r->bp_queued = -1;
    r->proxy.fd = -1;
    countalloc_reset();
    cr_assert_eq(hive_set_allocator(&countalloc), HIVE_OK);
    r->sbus = hive_bus_create(NULL);
    r->gbus = hive_bus_create(NULL);
    r->pbus = hive_bus_create(NULL);
    cr_assert(r->sbus && r->gbus && r->pbus);
    char addr[64];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:0", scheme);
    /* ENet gives up on a peer that acknowledges nothing after
     * heartbeat_timeout_ms + heartbeat_ms; the bound must act first. */
    hive_server_config sc = { .addr = addr, .heartbeat_ms = 500, .heartbeat_timeout_ms = 4000 };
    sc.send_queue_bytes = bound;
    if (st) sc.tls = *st;
    r->srv = hive_server_create(&sc, r->sbus);
    cr_assert_not_null(r->srv, "%s", hive_create_error()->message);
    cr_assert_gt(hive_server_register(r->srv, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(r->srv, "game:state", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_bus_subscribe(r->sbus, "net:server.recv.game:chat", eq_echo, r, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(r->sbus, "net:server.**", eq_server_event, r, NULL), 0);
    cr_assert_eq(hive_server_start(r->srv), HIVE_OK);
    uint16_t port = hive_server_port(r->srv);
    const char *host = ct ? "localhost" : "127.0.0.1";

    r->good = eq_client(r, r->gbus, scheme, host, port, ct, 4000);
    cr_assert_gt(hive_bus_subscribe(r->gbus, "net:client.recv.game:chat", eq_good_recv, r, NULL), 0);
    uint16_t peer_port = port;
    if (mode == EQ_WITHHOLD) {
        cr_assert(ackstrip_open(&r->proxy, port));
        peer_port = r->proxy.port;
    }
    r->peer = eq_client(r, r->pbus, scheme, host, peer_port, ct, 30000);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while ((hive_client_get_state(r->good) != HIVE_CLIENT_OPEN || hive_client_get_state(r->peer) != HIVE_CLIENT_OPEN) &&
           hive_now_ns() < end) {
        hive_server_service(r->srv, 1);
        hive_client_service(r->good, 0);
        if (mode == EQ_WITHHOLD) ackstrip_pump(&r->proxy);
        hive_client_service(r->peer, 0);
        if (mode == EQ_WITHHOLD) ackstrip_pump(&r->proxy);
    }
    cr_assert_eq(hive_client_get_state(r->good), HIVE_CLIENT_OPEN, "good client: no handshake");
    cr_assert_eq(hive_client_get_state(r->peer), HIVE_CLIENT_OPEN, "peer: no handshake");
    r->good_cid = hive_client_cid(r->good);
    r->peer_cid = hive_client_cid(r->peer);
    if (mode == EQ_WITHHOLD) {
        /* An attacker does not give up: it receives nothing new once the
         * server's reliable window is stuck, and a Hive client would
         * close on that silence after the server's heartbeat timeout,
         * the same time the server's own bound takes. */
        ((struct hive_client *)r->peer)->ep.tm.heartbeat_timeout_ms = 60000;
    }
    if (mode == EQ_STALLED) {
        /* From here on the peer is never serviced: let its last
         * handshake acknowledgements leave first. */
        hive_client_service(r->peer, 0);
    }
    cr_assert(eq_roundtrip(r, 0, 3000), "good client: no echo before the flood");
    eq_pump(r, 50);

    r->base = countalloc_live();
    r->max_live = r->base;
    countalloc_rebase();
    r->proxy.strip = true;
    r->hostile = true;

    uint64_t t0 = hive_now_ns(), closed_at = 0;
    end = t0 + (uint64_t)max_ms * 1000000u;
    int n = 1;
    while (hive_now_ns() < end) {
        if (eq_roundtrip(r, n++, 2000)) r->roundtrips++;
        else r->missed++;
        eq_pump(r, 5);
        if (r->close_reason >= 0 && !closed_at) {
            closed_at = hive_now_ns();
            r->peak_at_close = countalloc_peak();
        }
        /* A few more round trips after the close, then done. */
        if (closed_at && hive_now_ns() - closed_at > 300000000ull) break;
    }
    r->flood_ms = ((closed_at ? closed_at : hive_now_ns()) - t0) / 1000000u;
    r->peak = countalloc_peak();
    r->good_open_at_end = hive_client_get_state(r->good) == HIVE_CLIENT_OPEN;
    hive_server_stats(r->srv, &r->stats);
    fprintf(stderr, "[%s %s] bound %zu: peak %ld bytes over a base of %ld (%.2fx the bound), at most %ld between steps; close %s (%s) after %llu ms; "
            "(peak at close %ld) %d round trips, %d missed; %llu state frames, %llu pings sent, %llu acks stripped; backpressure at %lld\n",
            scheme, mode == EQ_STALLED ? "stalled" : "withhold", bound, r->peak - r->base, r->base,
            (double)(r->peak - r->base) / (double)bound, r->max_live - r->base, r->close_reason >= 0 ? r->close_name : "(none)", r->close_msg,
            (unsigned long long)r->flood_ms, r->peak_at_close - r->base, r->roundtrips, r->missed, (unsigned long long)r->state_sent,
            (unsigned long long)r->pings_sent, (unsigned long long)r->proxy.acks_stripped, (long long)r->bp_queued);

    hive_client_destroy(r->peer);
    hive_client_destroy(r->good);
    hive_server_destroy(r->srv);
    ackstrip_close(&r->proxy);
    hive_bus_destroy(r->pbus);
    hive_bus_destroy(r->gbus);
    hive_bus_destroy(r->sbus);
    hive_set_allocator(NULL);
}

/*
 * What every ENet transport must show. Memory, as held between two
 * service steps (what is kept): the bound (data and ENet's per-command
 * bookkeeping, as counted) plus `slack`, a fixed allowance for what is
 * not the peer's queue: the good client's traffic, the peer's own small
 * queue (it lives in this process) and, on enet+tls://, the TLS layer's
 * buffers on both sides (batches, records, decrypted input), which keep
 * the capacity of the largest round they carried. The peak inside a step
 * adds what is in flight there (EQ_INFLIGHT): a peer sending at full
 * speed has up to a read batch of datagrams (256) being reassembled and
 * delivered. Neither grows with the flood's length; without the bound
 * the queue grows by every frame or pong owed (20 to 40 MB here).
 */
#define EQ_SLACK_ENET     (128 * 1024)
#define EQ_SLACK_ENET_TLS (768 * 1024)
#define EQ_INFLIGHT       (512 * 1024)

static inline void eq_expect(const eq_run *r, size_t bound, long slack)
{
    cr_expect_lt(r->max_live - r->base, (long)bound + slack, "memory between steps: %ld bytes over the base, bound %zu",
                 r->max_live - r->base, bound);
    cr_expect_lt(r->peak - r->base, (long)bound + slack + EQ_INFLIGHT, "peak memory: %ld bytes over the base, bound %zu",
                 r->peak - r->base, bound);
    cr_expect_str_eq(r->close_name, "slow_consumer", "the peer's close: %s (%s)", r->close_name, r->close_msg);
    cr_expect_eq(r->close_reason, HIVE_CLOSE_SLOW_CONSUMER);
    cr_expect_geq(r->bp_at, 1, "no backpressure event for the peer");
    cr_expect_lt(r->bp_at, r->close_at, "backpressure comes before the close");
    cr_expect_geq(r->bp_queued, (int64_t)bound / 2, "queued_bytes at the high-water mark");
    cr_expect_eq(r->stats.slow_consumers, 1);
    if (r->mode == EQ_STALLED) {
        cr_expect_gt(r->send_efull, 0, "a frame over the bound is refused with HIVE_EFULL");
    } else {
        cr_expect_gt(r->proxy.acks_stripped, 0, "the relay withheld acknowledgements");
        cr_expect_gt(r->stats.pongs_dropped, 0, "pongs over the high-water mark are dropped");
    }
    cr_expect_gt(r->roundtrips, 5, "the good client's round trips: %d", r->roundtrips);
    cr_expect_eq(r->missed, 0, "the good client missed %d echoes", r->missed);
    cr_expect(r->good_open_at_end, "the good client's connection is still open");
}

#endif /* HIVE_TESTS_ENET_SENDQ_H */
