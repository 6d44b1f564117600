/*
 * Heartbeats do not depend on how slow the game's handlers are: with
 * `.threaded = true` Hive's I/O thread answers pings while a handler on
 * the game thread takes three times the heartbeat timeout.
 */
#include "net_test.h"

typedef struct slow { int got; } slow;

static void on_chat_slowly(const hive_event *ev, void *user)
{
    slow *s = user;
    s->got++;
    if (s->got == 1) usleep(900 * 1000);   /* 3x heartbeat_timeout_ms */
}

Test(threads, slow_handler_does_not_time_out_the_peer, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    recorder *sr = calloc(1, sizeof *sr), *cr = calloc(1, sizeof *cr);
    rec_attach(sr, sbus);
    rec_attach(cr, cbus);
    slow s = { 0 };
    hive_bus_subscribe(sbus, "net:server.recv.game:chat", on_chat_slowly, &s, NULL);
    const char *packets[] = { "game:chat", NULL };
    hive_server_config sc = { .threaded = true, .heartbeat_ms = 100, .heartbeat_timeout_ms = 300 };
    hive_server *srv = test_server(sbus, &sc, packets);
    hive_client *cli = hive_client_create(&(hive_client_config){ .threaded = true }, cbus);
    char addr[64];
    test_addr(srv, addr, sizeof addr);
    cr_assert_eq(hive_client_connect(cli, addr), 0);
    cr_assert_eq(hive_client_wait_connected(cli, 3000), 0);

    cr_assert_eq(hive_client_send(cli, "game:chat", "\x80", 1), 0);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (s.got < 1 && hive_now_ns() < end) { hive_bus_dispatch(sbus, 0); usleep(1000); }
    cr_assert_eq(s.got, 1);          /* the slow one ran (and slept) */
    cr_assert_eq(hive_client_send(cli, "game:chat", "\x80", 1), 0);
    while (s.got < 2 && hive_now_ns() < end) { hive_bus_dispatch(sbus, 0); usleep(1000); }
    hive_bus_dispatch(cbus, 0);
    cr_expect_eq(s.got, 2);
    cr_expect_eq(rec_count(sr, "net:server.connection.close"), 0, "the server timed the client out");
    cr_expect_eq(rec_count(cr, "net:client.close"), 0, "the client timed the server out");
    cr_expect_eq(hive_client_get_state(cli), HIVE_CLIENT_OPEN);

    hive_client_destroy(cli);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    free(sr);
    free(cr);
}
