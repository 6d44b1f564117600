/*
 * A broadcast to more connections than the ENet transport hands over in
 * one slice (300 players): between slices the flush reads the socket
 * (ENet queues what arrived and acknowledges it), but nothing is
 * published inside hive_server_flush: every recv event still comes from
 * hive_server_service. All players connect, receive the shared snapshot
 * packets, have their pings answered and close cleanly.
 */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hive/bus.h"
#include "hive/net.h"
#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_load_wire.h"
#include "tools/loadgen/lg_measure.h"

#define PLAYERS 300

typedef struct bigsrv {
    pthread_t th;
    atomic_int ready, stop, port;
    atomic_int in_flush;           /* the server thread is inside hive_server_flush */
    atomic_int recv_in_flush;      /* recv events published meanwhile (must stay 0) */
    atomic_int recvs, handshakes, closed_normal, broadcasts;
    int rc;
} bigsrv;

static void on_event(const hive_event *ev, void *user)
{
    bigsrv *b = user;
    const char *name = ev->name;
    if (!strcmp(name, HIVE_EV_SERVER_RECV)) {
        atomic_fetch_add(&b->recvs, 1);
        if (atomic_load(&b->in_flush)) atomic_fetch_add(&b->recv_in_flush, 1);
    } else if (!strcmp(name, HIVE_EV_SERVER_HANDSHAKE)) {
        atomic_fetch_add(&b->handshakes, 1);
    } else if (!strcmp(name, HIVE_EV_SERVER_CLOSE)) {
        if (hive_event_int(ev, "reason", -1) == HIVE_CLOSE_NORMAL) atomic_fetch_add(&b->closed_normal, 1);
    }
}

static void *srv_main(void *arg)
{
    bigsrv *b = arg;
    b->rc = -1;
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *srv = hive_server_create(&(hive_server_config){
        .addr = "enet://127.0.0.1:0", .max_connections = PLAYERS + 8, .app = LG_APP,
        /* every player joins at once, from one address */
        .max_handshakes = PLAYERS + 8, .max_handshakes_per_addr = PLAYERS + 8,
        .max_peers_per_addr = PLAYERS + 8 }, bus);
    int pid = srv ? hive_server_register(srv, LG_PKT_SNAPSHOT, 0, HIVE_UNRELIABLE) : -1;
    if (pid < 0 || hive_server_register(srv, LG_PKT_INPUT, 0, HIVE_UNRELIABLE) < 0 ||
        hive_bus_subscribe(bus, "net:server.connection.*", on_event, b, NULL) < 0 ||
        hive_server_start(srv) != 0) {
        atomic_store(&b->ready, -1);
        goto out;
    }
    atomic_store(&b->port, hive_server_port(srv));
    atomic_store(&b->ready, 1);
    uint8_t blob[98] = { 0 };
    hive_msg snap;
    hive_msg_init(&snap);
    uint64_t next = lg_now_ns();
    for (uint32_t t = 0; !atomic_load(&b->stop);) {
        if (lg_now_ns() >= next) {
            uint64_t tns = lg_now_ns();
            memcpy(blob, &t, 4);
            memcpy(blob + 4, &tns, 8);
            hive_msg_reset(&snap);
            hive_msg_bin(&snap, blob, sizeof blob);
            if (hive_server_broadcast_id(srv, (uint32_t)pid, hive_msg_data(&snap), hive_msg_size(&snap), 0, 0) > 0)
                atomic_fetch_add(&b->broadcasts, 1);
            atomic_store(&b->in_flush, 1);
            hive_server_flush(srv);
            atomic_store(&b->in_flush, 0);
            next += 33000000ull;
            t++;
        }
        hive_server_service(srv, 5);
    }
    hive_msg_free(&snap);
    b->rc = 0;
out:
    hive_server_destroy(srv);
    hive_bus_destroy(bus);
    return NULL;
}

Test(scale, broadcast_to_300_players_flushes_in_slices, .timeout = 60)
{
    cr_assert_eq(enet_initialize(), 0);
    bigsrv *b = calloc(1, sizeof *b);
    cr_assert_not_null(b);
    cr_assert_eq(pthread_create(&b->th, NULL, srv_main, b), 0);
    for (int i = 0; i < 500 && atomic_load(&b->ready) == 0; i++) {
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(atomic_load(&b->ready), 1, "the server did not start");

    lg_config cfg = { .port = (uint16_t)atomic_load(&b->port), .proto = LG_PROTO_HIVE, .clients = PLAYERS,
                      .peers_per_host = 100, .connect_rate = 1000, .connect_timeout_ms = 20000,
                      .close_timeout_ms = 15000, .app = LG_APP };
    lg *g = lg_create(&cfg);
    cr_assert_not_null(g);
    int n = lg_connect_all(g, 30000);
    cr_assert_eq(n, PLAYERS, "only %d of %d players connected", n, PLAYERS);
    lg_set_active(g, true);
    lg_window w;
    lg_window_begin(g);
    lg_run(g, 2000);
    lg_window_end(g, &w);
    int closed = lg_disconnect_all(g);
    lg_conn_stats cs;
    lg_conn_stats_get(g, &cs);
    cr_expect_eq(cs.dropped, 0, "%d players were dropped while playing", cs.dropped);
    cr_expect_eq(cs.proto_errors, 0);
    cr_expect_eq(lg_starved(g), 0, "%d players never received a snapshot", lg_starved(g));
    cr_expect_gt(w.snapshots_recv, (uint64_t)PLAYERS);
    cr_expect_gt(w.pongs_recv, 0, "pings were answered");
    cr_expect_eq(closed, PLAYERS, "only %d players closed cleanly", closed);
    lg_destroy(g);

    for (int i = 0; i < 500 && atomic_load(&b->closed_normal) < PLAYERS; i++) {
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    cr_expect_eq(atomic_load(&b->handshakes), PLAYERS);
    cr_expect_eq(atomic_load(&b->closed_normal), PLAYERS);
    cr_expect_gt(atomic_load(&b->recvs), PLAYERS, "inputs arrived");
    cr_expect_gt(atomic_load(&b->broadcasts), 10);
    cr_expect_eq(atomic_load(&b->recv_in_flush), 0, "recv events were published inside hive_server_flush");
    atomic_store(&b->stop, 1);
    pthread_join(b->th, NULL);
    cr_expect_eq(b->rc, 0);
    free(b);
    enet_deinitialize();
}
