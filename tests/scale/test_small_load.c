/*
 * A small load run end to end, in one process: the load server on a
 * thread, 50 players from the loadgen core for about 3 seconds. Every
 * player must connect, receive snapshots and close cleanly, and the
 * server must see each close as normal. Correctness only: timings on a
 * loaded machine are not asserted.
 */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <pthread.h>
#include <stdlib.h>

#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_server.h"

#define PLAYERS 50

typedef struct srv_thread {
    pthread_t th;
    lg_server_config cfg;
    lg_server_shared *sh;
    bool hive;
    int rc;
} srv_thread;

static void *srv_main(void *arg)
{
    srv_thread *s = arg;
    s->rc = s->hive ? lg_server_hive_run(&s->cfg, s->sh) : lg_server_raw_run(&s->cfg, s->sh);
    return NULL;
}

static void start_server(srv_thread *s, bool hive)
{
    s->hive = hive;
    s->cfg = (lg_server_config){ .port = 0, .max_clients = PLAYERS + 8, .quiet = false };
    s->sh = calloc(1, sizeof *s->sh);
    cr_assert_not_null(s->sh);
    cr_assert_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
    for (int i = 0; i < 1000 && atomic_load(&s->sh->ready) == 0; i++) {
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(atomic_load(&s->sh->ready), 1, "the load server did not start");
}

static void stop_server(srv_thread *s)
{
    atomic_store(&s->sh->stop, 1);
    pthread_join(s->th, NULL);
    cr_expect_eq(s->rc, 0);
    free(s->sh);
}

static void run_players(lg_proto_kind proto)
{
    cr_assert_eq(enet_initialize(), 0);
    srv_thread s;
    start_server(&s, proto == LG_PROTO_HIVE);
    atomic_store(&s.sh->broadcast, 1);

    lg_config cfg = { .port = (uint16_t)atomic_load(&s.sh->port), .proto = proto, .clients = PLAYERS,
                      .peers_per_host = 20,           /* several hosts, as at scale */
                      .connect_rate = 500, .connect_timeout_ms = 20000, .close_timeout_ms = 15000 };
    lg *g = lg_create(&cfg);
    cr_assert_not_null(g);
    cr_expect_eq(lg_hosts(g), 3);
    int n = lg_connect_all(g, 30000);
    cr_assert_eq(n, PLAYERS, "only %d of %d players connected", n, PLAYERS);

    lg_set_active(g, true);
    lg_window w;
    lg_window_begin(g);
    lg_run(g, 3000);
    lg_window_end(g, &w);
    int closed = lg_disconnect_all(g);

    lg_conn_stats cs;
    lg_conn_stats_get(g, &cs);
    cr_expect_eq(cs.failed, 0);
    cr_expect_eq(cs.dropped, 0, "%d players were dropped while playing", cs.dropped);
    cr_expect_eq(cs.proto_errors, 0);
    cr_expect_eq(lg_starved(g), 0, "%d players never received a snapshot", lg_starved(g));
    cr_expect_gt(w.snapshots_recv, (uint64_t)PLAYERS, "snapshots flowed");
    cr_expect_gt(w.inputs_sent, (uint64_t)PLAYERS);
    cr_expect_gt(w.pongs_recv, 0, "pings were answered");
    cr_expect_gt(w.rtt.count, 0);
    cr_expect_eq(closed, PLAYERS, "only %d players closed cleanly", closed);
    cr_expect_eq(cs.closed_unclean, 0);
    lg_destroy(g);

    /* The server saw every player arrive, play and leave normally. */
    for (int i = 0; i < 500 && atomic_load(&s.sh->closed) < PLAYERS; i++) {
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    cr_expect_eq(atomic_load(&s.sh->handshakes), PLAYERS);
    cr_expect_eq(atomic_load(&s.sh->closed_normal), PLAYERS);
    cr_expect_eq(atomic_load(&s.sh->open), 0);
    cr_expect_gt(atomic_load(&s.sh->inputs), 0);
    cr_expect_gt(atomic_load(&s.sh->ticks), 30);
    stop_server(&s);
    enet_deinitialize();
}

Test(scale, hive_50_players_connect_play_and_close, .timeout = 60)
{
    run_players(LG_PROTO_HIVE);
}

Test(scale, raw_enet_50_players_connect_play_and_close, .timeout = 60)
{
    run_players(LG_PROTO_RAW);
}
