/* Broadcast to every open connection, or to all but one. */
#include "net_test.h"

#define N 3

Test(broadcast, all_and_all_but_one, .timeout = 30)
{
    hive_bus *sbus = hive_bus_create(NULL);
    recorder *sr = calloc(1, sizeof *sr);
    rec_attach(sr, sbus);
    const char *packets[] = { "game:news", NULL };
    hive_server *s = test_server(sbus, NULL, packets);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_bus *bus[N];
    recorder *r[N];
    hive_client *c[N];
    for (int i = 0; i < N; i++) {
        bus[i] = hive_bus_create(NULL);
        r[i] = calloc(1, sizeof *r[i]);
        rec_attach(r[i], bus[i]);
        c[i] = hive_client_create(NULL, bus[i]);
        cr_assert_eq(hive_client_connect(c[i], addr), 0);
        cr_assert(pump(s, c[i], 3000, client_open, c[i]));
    }
    /* The server counts a connection open once it has the client's ready. */
    cr_assert(pump_until_event(s, NULL, 3000, sr, "net:server.connection.handshakecomplete", N));
    cr_expect_eq(hive_server_connection_count(s), (size_t)N);

    hive_msg m;
    text_msg(&m, "to all");
    cr_expect_eq(hive_server_broadcast(s, "game:news", hive_msg_data(&m), hive_msg_size(&m), 0), N);
    hive_msg_free(&m);
    hive_cid skip = hive_client_cid(c[1]);
    text_msg(&m, "not to 1");
    cr_expect_eq(hive_server_broadcast(s, "game:news", hive_msg_data(&m), hive_msg_size(&m), skip), N - 1);
    hive_msg_free(&m);
    cr_expect_eq(hive_server_broadcast(s, "game:nope", "\x80", 1, 0), HIVE_ENOENT);

    uint64_t end = hive_now_ns() + 3000000000ull;
    while (hive_now_ns() < end &&
           (rec_count(r[0], "net:client.recv") < 2 || rec_count(r[1], "net:client.recv") < 1 ||
            rec_count(r[2], "net:client.recv") < 2)) {
        hive_server_service(s, 1);
        for (int i = 0; i < N; i++) hive_client_service(c[i], 0);
    }
    for (int i = 0; i < 20; i++) {   /* anything extra would show up now */
        hive_server_service(s, 1);
        for (int k = 0; k < N; k++) hive_client_service(c[k], 0);
    }
    cr_expect_eq(rec_count(r[0], "net:client.recv"), 2);
    cr_expect_eq(rec_count(r[1], "net:client.recv"), 1);
    cr_expect_eq(rec_count(r[2], "net:client.recv"), 2);
    cr_expect_str_eq(rec_find(r[1], "net:client.recv")->msg_text, "to all");

    for (int i = 0; i < N; i++) {
        hive_client_destroy(c[i]);
        hive_bus_destroy(bus[i]);
        free(r[i]);
    }
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    free(sr);
}
