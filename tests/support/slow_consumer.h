/*
 * slow_consumer.h - the bounded-send-queue scenario, run over tcp:// by
 * tests/net and over tls:// by tests/tls.
 *
 * A server with a small send_queue_bytes, a well-behaved client that
 * keeps playing (a chat the server echoes, round trip after round trip),
 * and a flood_peer that completes the handshake, then sends pings as fast
 * as it can and never reads. Measured with the counting allocator: the
 * most memory Hive held above what it held before the flood. Recorded on
 * the server's bus: the backpressure event for the flooder, its close
 * (reason and order), and the good client's round trips.
 */
#ifndef HIVE_TESTS_SLOW_CONSUMER_H
#define HIVE_TESTS_SLOW_CONSUMER_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "hive/hive.h"
#include "tests/support/countalloc.h"
#include "tests/support/flood_peer.h"

#define SC_EVENTS_MAX 64

typedef struct sc_run {
    hive_bus *sbus, *cbus;
    hive_server *srv;
    hive_client *cli;
    hive_cid good_cid, flood_cid;
    int echoes;                      /* server: chats echoed */
    int good_recv;                   /* client: echoes received */
    /* server events about connections other than the good one, in order */
    char seen[SC_EVENTS_MAX][48];
    int nseen;
    int close_reason;                /* the flooder's close, -1 none */
    char close_name[32];
    int64_t bp_queued;               /* queued_bytes of its first backpressure event */
    /* results */
    long base, peak;                 /* live bytes before the flood, peak during it */
    int roundtrips, missed;          /* the good client's, during the flood */
    bool good_open_at_end;
    uint64_t flood_ms;               /* flood start to the flooder's close (or the end) */
    hive_net_stats stats;
} sc_run;

static void sc_echo(const hive_event *ev, void *user)
{
    sc_run *r = user;
    const void *raw, *obj;
    size_t len;
    if (hive_event_get_msgpack(ev, "msg", &raw, &len, &obj) != 0) return;
    hive_server_send(r->srv, (hive_cid)hive_event_int(ev, "cid", 0), "game:chat", raw, len);
    r->echoes++;
}

static void sc_server_event(const hive_event *ev, void *user)
{
    sc_run *r = user;
    hive_cid cid = (hive_cid)hive_event_int(ev, "cid", 0);
    if (strcmp(ev->name, HIVE_EV_SERVER_HANDSHAKE) == 0 && r->good_cid && cid != r->good_cid)
        r->flood_cid = cid;
    if (!cid || cid == r->good_cid || r->nseen >= SC_EVENTS_MAX) return;
    snprintf(r->seen[r->nseen++], sizeof r->seen[0], "%s", ev->name);
    if (strcmp(ev->name, HIVE_EV_SERVER_CLOSE) == 0 && r->close_reason < 0) {
        r->close_reason = (int)hive_event_int(ev, "reason", -1);
        const char *s = hive_event_str(ev, "reason_name");
        snprintf(r->close_name, sizeof r->close_name, "%s", s ? s : "");
    }
    if (strcmp(ev->name, HIVE_EV_SERVER_BACKPRESSURE) == 0 && r->bp_queued < 0)
        r->bp_queued = hive_event_int(ev, "queued_bytes", -1);
}

static void sc_client_recv(const hive_event *ev, void *user)
{
    (void)ev;
    ((sc_run *)user)->good_recv++;
}

static inline void sc_pump(sc_run *r, int ms)
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    do {
        hive_server_service(r->srv, 1);
        hive_client_service(r->cli, 0);
    } while (hive_now_ns() < end);
}

/* One round trip of the good client: true when its echo came back in ms. */
static inline bool sc_roundtrip(sc_run *r, int n, int ms)
{
    int before = r->good_recv;
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_int(&m, "n", n);
    int rc = hive_client_send_msg(r->cli, "game:chat", &m);
    hive_msg_free(&m);
    if (rc != HIVE_OK) return false;
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (r->good_recv == before && hive_now_ns() < end) {
        hive_client_service(r->cli, 0);
        hive_server_service(r->srv, 1);
    }
    return r->good_recv > before;
}

/*
 * Runs the scenario on scheme ("tcp" or "tls") with the server's bound
 * (0: leave the field alone) and TLS configs (NULL on tcp), for at most
 * max_ms of flood. Leaves the counting allocator installed until the end,
 * then restores the C library's.
 */
static inline void sc_run_flood(sc_run *r, const char *scheme, size_t bound, const hive_tls_config *st,
                                const hive_tls_config *ct, int max_ms)
{
    memset(r, 0, sizeof *r);
    r->close_reason = -1;
    r->bp_queued = -1;
    countalloc_reset();
    cr_assert_eq(hive_set_allocator(&countalloc), HIVE_OK);
    r->sbus = hive_bus_create(NULL);
    r->cbus = hive_bus_create(NULL);
    cr_assert(r->sbus && r->cbus);
    char addr[64];
    snprintf(addr, sizeof addr, "%s://127.0.0.1:0", scheme);
    hive_server_config sc = { .addr = addr, .heartbeat_ms = 300, .heartbeat_timeout_ms = 1500 };
    sc.send_queue_bytes = bound;
    if (st) sc.tls = *st;
    r->srv = hive_server_create(&sc, r->sbus);
    cr_assert_not_null(r->srv, "%s", hive_create_error()->message);
    cr_assert_gt(hive_server_register(r->srv, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_bus_subscribe(r->sbus, "net:server.recv.game:chat", sc_echo, r, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(r->sbus, "net:server.**", sc_server_event, r, NULL), 0);
    cr_assert_eq(hive_server_start(r->srv), HIVE_OK);

    hive_client_config cc = { .heartbeat_ms = 300, .heartbeat_timeout_ms = 1500 };
    if (ct) cc.tls = *ct;
    r->cli = hive_client_create(&cc, r->cbus);
    cr_assert_not_null(r->cli);
    cr_assert_gt(hive_bus_subscribe(r->cbus, "net:client.recv.game:chat", sc_client_recv, r, NULL), 0);
    char caddr[96];
    snprintf(caddr, sizeof caddr, "%s://%s:%u", scheme, ct ? "localhost" : "127.0.0.1",
             (unsigned)hive_server_port(r->srv));
    cr_assert_eq(hive_client_connect(r->cli, caddr), HIVE_OK);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (hive_client_get_state(r->cli) != HIVE_CLIENT_OPEN && hive_now_ns() < end) sc_pump(r, 1);
    cr_assert_eq(hive_client_get_state(r->cli), HIVE_CLIENT_OPEN, "good client: no handshake");
    r->good_cid = hive_client_cid(r->cli);
    cr_assert(sc_roundtrip(r, 0, 3000), "good client: no echo before the flood");
    sc_pump(r, 50);

    r->nseen = 0;   /* from here on: the flooder's events only */
    r->close_reason = -1;
    r->base = countalloc_live();
    countalloc_rebase();
    flood_peer p;
    if (!strncmp(scheme, "ws", 2)) flood_start_ws(&p, hive_server_port(r->srv), st != NULL);
    else flood_start(&p, hive_server_port(r->srv), st != NULL);
    end = hive_now_ns() + 5000000000ull;
    while (!flood_ready(&p) && !flood_failed(&p) && hive_now_ns() < end) sc_pump(r, 1);
    cr_assert(flood_ready(&p), "flooder: no handshake: %s", p.why);

    uint64_t t0 = hive_now_ns(), closed_at = 0;
    end = t0 + (uint64_t)max_ms * 1000000u;
    int n = 1;
    while (hive_now_ns() < end) {
        if (sc_roundtrip(r, n++, 2000)) r->roundtrips++;
        else r->missed++;
        sc_pump(r, 5);
        if (r->close_reason >= 0 && !closed_at) closed_at = hive_now_ns();
        /* A few more round trips after the close, then done. */
        if (closed_at && hive_now_ns() - closed_at > 300000000ull) break;
    }
    r->flood_ms = ((closed_at ? closed_at : hive_now_ns()) - t0) / 1000000u;
    r->peak = countalloc_peak();
    r->good_open_at_end = hive_client_get_state(r->cli) == HIVE_CLIENT_OPEN;
    hive_server_stats(r->srv, &r->stats);
    flood_stop(&p);
    fprintf(stderr, "[%s] bound %zu: peak %ld bytes over a base of %ld (%.1fx the bound); close %s after %llu ms; "
            "%d round trips, %d missed; %llu pings sent; backpressure at %lld queued\n",
            scheme, bound, r->peak - r->base, r->base, bound ? (double)(r->peak - r->base) / (double)bound : 0.0,
            r->close_reason >= 0 ? r->close_name : "(none)", (unsigned long long)r->flood_ms, r->roundtrips,
            r->missed, (unsigned long long)__atomic_load_n(&p.pings_sent, __ATOMIC_RELAXED),
            (long long)r->bp_queued);

    hive_client_destroy(r->cli);
    hive_server_destroy(r->srv);
    hive_bus_destroy(r->cbus);
    hive_bus_destroy(r->sbus);
    hive_set_allocator(NULL);
}

/* The index of name among the flooder's server events, or -1. */
static inline int sc_seen_at(const sc_run *r, const char *name)
{
    for (int i = 0; i < r->nseen; i++)
        if (strcmp(r->seen[i], name) == 0) return i;
    return -1;
}

/* What every transport with a bounded send queue must show. */
static inline void sc_expect(const sc_run *r, size_t bound)
{
    /* Memory: the queue (plaintext + TLS records) and the capacity of its
     * buffers, the connection's receive side and TLS session: a small
     * multiple of the bound, however long the flood lasts. */
    cr_expect_lt(r->peak - r->base, 4 * (long)bound, "server memory: %ld bytes over the base, bound %zu",
                 r->peak - r->base, bound);
    cr_expect_str_eq(r->close_name, "slow_consumer", "the flooder's close");
    cr_expect_eq(r->close_reason, HIVE_CLOSE_SLOW_CONSUMER);
    int bp = sc_seen_at(r, HIVE_EV_SERVER_BACKPRESSURE), cl = sc_seen_at(r, HIVE_EV_SERVER_CLOSE);
    cr_expect_geq(bp, 0, "no backpressure event for the flooder");
    cr_expect_lt(bp, cl, "backpressure comes before the close");
    cr_expect_geq(r->bp_queued, (int64_t)bound / 2, "queued_bytes at the high-water mark");
    cr_expect_gt(r->stats.pongs_dropped, 0, "pongs over the high-water mark are dropped");
    cr_expect_eq(r->stats.slow_consumers, 1);
    /* The good client played throughout, and was never the one closed. */
    cr_expect_gt(r->roundtrips, 5, "the good client's round trips: %d", r->roundtrips);
    cr_expect_eq(r->missed, 0, "the good client missed %d echoes", r->missed);
    cr_expect(r->good_open_at_end, "the good client's connection is still open");
}

#endif /* HIVE_TESTS_SLOW_CONSUMER_H */
