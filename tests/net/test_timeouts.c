/*
 * Time limits: a hello that never comes, a peer that vanishes without a
 * word, a server that never answers, nobody listening at all.
 */
#include "net_test.h"

Test(timeouts, hello_that_never_comes, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .handshake_timeout_ms = 300 }, NULL, true);
    raw_peer p;
    raw_connect(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 1);
    uint64_t t0 = hive_now_ns();
    const rec_event *e = fx_wait_close(&fx, &p, cid, 3000);
    double ms = (double)(hive_now_ns() - t0) / 1e6;
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "handshake_timeout");
    cr_expect_geq(ms, 250.0);
    cr_expect_lt(ms, 1500.0);
    cr_expect_eq(raw_close_reason(&p, NULL), HIVE_CLOSE_HANDSHAKE_TIMEOUT);
    fx_roundtrip(&fx, "not me");   /* the good client did its handshake in time */
    raw_destroy(&p);
    fx_fini(&fx);
}

Test(timeouts, ready_that_never_comes, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .handshake_timeout_ms = 300 }, NULL, false);
    raw_peer p;
    raw_connect(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 0);
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    raw_send_frame(&p, HIVE__PID_HELLO, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    const rec_event *e = fx_wait_close(&fx, &p, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "handshake_timeout");
    raw_destroy(&p);
    fx_fini(&fx);
}

Test(timeouts, peer_vanishes_without_closing, .timeout = 30)
{
    hive_server_config sc = { .heartbeat_ms = 100, .heartbeat_timeout_ms = 400 };
    fixture fx;
    fx_init(&fx, &sc, NULL, true);
    raw_peer p;
    raw_connect(&p, fx.srv);
    raw_handshake(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 1);
    for (int i = 0; i < 50; i++) { hive_server_service(fx.srv, 1); raw_service(&p, 1); }
    cr_assert_eq(rec_count(fx.sr, "net:server.connection.handshakecomplete"), 2);
    /* Gone: no disconnect, no close, nothing more on the wire. */
    raw_destroy(&p);
    uint64_t t0 = hive_now_ns();
    const rec_event *e = fx_wait_close(&fx, NULL, cid, 3000);
    double ms = (double)(hive_now_ns() - t0) / 1e6;
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "timeout");
    cr_expect_lt(ms, 1500.0);
    /* The good client answered every ping meanwhile and is still there. */
    cr_expect_eq(hive_client_get_state(fx.cli), HIVE_CLIENT_OPEN);
    fx_roundtrip(&fx, "alive");
    cr_expect_eq(hive_server_connection_count(fx.srv), 1u);
    fx_fini(&fx);
}

Test(timeouts, peer_drops_the_link_without_a_close_packet, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    raw_peer p;
    raw_connect(&p, fx.srv);
    raw_handshake(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 1);
    for (int i = 0; i < 20; i++) { hive_server_service(fx.srv, 1); raw_service(&p, 1); }
    enet_peer_disconnect(p.peer, 0);       /* ENet says goodbye, Hive does not */
    const rec_event *e = fx_wait_close(&fx, &p, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "peer_vanished");
    cr_expect_eq(e->remote, 1);
    raw_destroy(&p);
    fx_fini(&fx);
}

/* A UDP endpoint that accepts ENet connections and then says nothing. */
Test(timeouts, server_that_never_welcomes, .timeout = 30)
{
    cr_assert_eq(enet_initialize(), 0);
    ENetAddress a = { .host = ENET_HOST_ANY, .port = 0 };
    enet_address_set_host(&a, "127.0.0.1");
    ENetHost *mute = enet_host_create(&a, 4, 2, 0, 0);
    cr_assert_not_null(mute);
    ENetAddress got;
    cr_assert_eq(enet_socket_get_address(mute->socket, &got), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)got.port);

    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_client *c = hive_client_create(&(hive_client_config){ .handshake_timeout_ms = 300 }, bus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (!client_gone(c) && hive_now_ns() < end) {
        ENetEvent ev;
        while (enet_host_service(mute, &ev, 0) > 0)
            if (ev.type == ENET_EVENT_TYPE_RECEIVE) enet_packet_destroy(ev.packet);
        hive_client_service(c, 1);
    }
    cr_assert(client_gone(c));
    cr_expect_str_eq(hive_close_reason_name(hive_client_close_reason(c)), "handshake_timeout");
    static const char *const want[] = {
        "net:client.initialize", "net:client.connect", "net:client.start",
        "net:client.close", "net:client.stop", NULL,
    };
    rec_expect_sequence(r, "client", want);
    hive_client_destroy(c);
    enet_host_destroy(mute);
    hive_bus_destroy(bus);
    free(r);
}

Test(timeouts, nobody_listening, .timeout = 30)
{
    /* Bind a port, then free it, so that nothing answers there. */
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *s = test_server(sbus, NULL, NULL);
    char addr[64];
    test_addr(s, addr, sizeof addr);
    hive_server_destroy(s);

    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_client *c = hive_client_create(&(hive_client_config){ .connect_timeout_ms = 300 }, bus);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_expect_eq(hive_client_wait_connected(c, 3000), HIVE_ECLOSED);
    cr_expect_str_eq(hive_close_reason_name(hive_client_close_reason(c)), "connect_failed");
    cr_expect_eq(hive_client_get_state(c), HIVE_CLIENT_CLOSED);
    static const char *const want[] = {
        "net:client.initialize", "net:client.connect", "net:client.close", "net:client.stop", NULL,
    };
    rec_expect_sequence(r, "client", want);
    hive_client_destroy(c);
    hive_bus_destroy(bus);
    hive_bus_destroy(sbus);
    free(r);
}
