/*
 * Reliable-ordered (channel 0), unreliable-sequenced (channel 1) or
 * unreliable-unordered (channel 1, ENet unsequenced): per
 * packet type, overridden per send, and known to the client through the
 * table it receives.
 */
#include "net_test.h"

static void setup(fixture *fx, raw_peer *p)
{
    memset(fx, 0, sizeof *fx);
    fx->sbus = hive_bus_create(NULL);
    fx->cbus = hive_bus_create(NULL);
    fx->sr = calloc(1, sizeof *fx->sr);
    fx->cr = calloc(1, sizeof *fx->cr);
    rec_attach(fx->sr, fx->sbus);
    rec_attach(fx->cr, fx->cbus);
    hive_server_config c = { .addr = "127.0.0.1:0" };
    fx->srv = hive_server_create(&c, fx->sbus);
    cr_assert_gt(hive_server_register(fx->srv, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(fx->srv, "game:pos", 0, HIVE_UNRELIABLE), 0);
    cr_assert_gt(hive_server_register(fx->srv, "game:echo", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(fx->srv, "game:fx", 0, HIVE_UNORDERED), 0);
    cr_assert_eq(hive_server_start(fx->srv), 0);
    test_addr(fx->srv, fx->addr, sizeof fx->addr);
    fx->cli = hive_client_create(NULL, fx->cbus);
    raw_connect(p, fx->srv);
    raw_handshake(p, fx->srv);
    for (int i = 0; i < 20; i++) { hive_server_service(fx->srv, 1); raw_service(p, 1); }
}

static void settle(fixture *fx, raw_peer *p)
{
    hive_server_flush(fx->srv);
    for (int i = 0; i < 50; i++) { hive_server_service(fx->srv, 1); raw_service(p, 1); }
}

Test(delivery, per_type_default_and_per_send_override, .timeout = 30)
{
    fixture fx;
    raw_peer p;
    setup(&fx, &p);
    hive_cid cid = (hive_cid)fx_accepted_cid(&fx, 0);
    const uint8_t body = 0x80;
    int before0 = p.packets[0], before1 = p.packets[1];

    cr_assert_eq(hive_server_send(fx.srv, cid, "game:pos", &body, 1), 0);
    settle(&fx, &p);
    cr_expect_eq(p.packets[1], before1 + 1, "unreliable type not on channel 1");
    cr_expect_eq(p.packets[0], before0);

    cr_assert_eq(hive_server_send(fx.srv, cid, "game:chat", &body, 1), 0);
    settle(&fx, &p);
    cr_expect_eq(p.packets[0], before0 + 1, "reliable type not on channel 0");

    uint32_t chat = (uint32_t)hive_server_packet_id(fx.srv, "game:chat");
    uint32_t pos = (uint32_t)hive_server_packet_id(fx.srv, "game:pos");
    cr_assert_eq(hive_server_send_id(fx.srv, cid, chat, &body, 1, HIVE_SEND_UNRELIABLE), 0);
    settle(&fx, &p);
    cr_expect_eq(p.packets[1], before1 + 2, "per-send unreliable ignored");
    cr_assert_eq(hive_server_send_id(fx.srv, cid, pos, &body, 1, HIVE_SEND_RELIABLE), 0);
    settle(&fx, &p);
    cr_expect_eq(p.packets[0], before0 + 2, "per-send reliable ignored");

    raw_destroy(&p);
    fx_fini(&fx);
}

Test(delivery, unreliable_messages_arrive_both_ways, .timeout = 30)
{
    fixture fx;
    raw_peer p;
    setup(&fx, &p);
    raw_destroy(&p);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_open, fx.cli));
    const uint8_t body[] = { 0x92, 0x01, 0x02 };   /* [1, 2] */
    /* Loopback rarely loses a datagram; a few tries make the test immune. */
    for (int i = 0; i < 5 && rec_count(fx.sr, "net:server.recv.game:pos") == 0; i++) {
        cr_assert_eq(hive_client_send(fx.cli, "game:pos", body, sizeof body), 0);
        pump_until_event(fx.srv, fx.cli, 300, fx.sr, "net:server.recv.game:pos", 1);
    }
    cr_expect_geq(rec_count(fx.sr, "net:server.recv.game:pos"), 1);
    hive_cid cid = hive_client_cid(fx.cli);
    for (int i = 0; i < 5 && rec_count(fx.cr, "net:client.recv.game:pos") == 0; i++) {
        cr_assert_eq(hive_server_send(fx.srv, cid, "game:pos", body, sizeof body), 0);
        pump_until_event(fx.srv, fx.cli, 300, fx.cr, "net:client.recv.game:pos", 1);
    }
    cr_expect_geq(rec_count(fx.cr, "net:client.recv.game:pos"), 1);
    fx_fini(&fx);
}

Test(delivery, unordered_goes_unsequenced_by_type_and_per_send, .timeout = 30)
{
    fixture fx;
    raw_peer p;
    setup(&fx, &p);
    hive_cid cid = (hive_cid)fx_accepted_cid(&fx, 0);
    const uint8_t body = 0x80;
    int before1 = p.packets[1], before0 = p.packets[0];
    cr_assert_eq(p.unsequenced, 0);

    cr_assert_eq(hive_server_send(fx.srv, cid, "game:fx", &body, 1), 0);
    settle(&fx, &p);
    cr_expect_eq(p.packets[1], before1 + 1, "unordered type not on channel 1");
    cr_expect_eq(p.unsequenced, 1, "unordered type not sent unsequenced");

    /* Per send: HIVE_SEND_UNORDERED wins over the type's delivery and
     * over the other flags; HIVE_SEND_UNRELIABLE stays sequenced. */
    uint32_t chat = (uint32_t)hive_server_packet_id(fx.srv, "game:chat");
    uint32_t fxid = (uint32_t)hive_server_packet_id(fx.srv, "game:fx");
    cr_assert_eq(hive_server_send_id(fx.srv, cid, chat, &body, 1, HIVE_SEND_UNORDERED | HIVE_SEND_RELIABLE), 0);
    settle(&fx, &p);
    cr_expect_eq(p.unsequenced, 2, "per-send unordered ignored");
    cr_expect_eq(p.packets[0], before0, "an unordered send went reliable");
    cr_assert_eq(hive_server_send_id(fx.srv, cid, fxid, &body, 1, HIVE_SEND_UNRELIABLE), 0);
    settle(&fx, &p);
    cr_expect_eq(p.packets[1], before1 + 3);
    cr_expect_eq(p.unsequenced, 2, "per-send sequenced went unsequenced");
    cr_assert_eq(hive_server_send_id(fx.srv, cid, fxid, &body, 1, HIVE_SEND_RELIABLE), 0);
    settle(&fx, &p);
    cr_expect_eq(p.packets[0], before0 + 1, "per-send reliable ignored on an unordered type");

    /* A broadcast of the type goes unsequenced too (the shared packet). */
    cr_assert_eq(hive_server_broadcast(fx.srv, "game:fx", &body, 1, 0), 1);
    settle(&fx, &p);
    cr_expect_eq(p.unsequenced, 3, "unordered broadcast not unsequenced");

    raw_destroy(&p);
    fx_fini(&fx);
}

static void on_fx(const hive_event *ev, void *user)
{
    int *n = user;
    (void)ev;
    (*n)++;
}

Test(delivery, unordered_messages_arrive_both_ways_by_the_table_the_client_got, .timeout = 30)
{
    fixture fx;
    raw_peer p;
    setup(&fx, &p);
    raw_destroy(&p);
    int got_s = 0, got_c = 0;
    cr_assert_gt(hive_bus_subscribe(fx.sbus, "net:server.recv.game:fx", on_fx, &got_s, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(fx.cbus, "net:client.recv.game:fx", on_fx, &got_c, NULL), 0);
    cr_assert_eq(hive_client_connect(fx.cli, fx.addr), 0);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_open, fx.cli));
    const uint8_t body[] = { 0x92, 0x01, 0x02 };
    /* The client sends game:fx by its type's delivery, which it learned
     * from the server's table: unordered. Loopback rarely loses a
     * datagram; a few tries make the test immune. */
    for (int i = 0; i < 5 && got_s == 0; i++) {
        cr_assert_eq(hive_client_send(fx.cli, "game:fx", body, sizeof body), 0);
        for (int k = 0; k < 30 && got_s == 0; k++) { hive_client_service(fx.cli, 1); hive_server_service(fx.srv, 1); }
    }
    cr_expect_geq(got_s, 1);
    hive_cid cid = hive_client_cid(fx.cli);
    for (int i = 0; i < 5 && got_c == 0; i++) {
        cr_assert_eq(hive_server_send(fx.srv, cid, "game:fx", body, sizeof body), 0);
        for (int k = 0; k < 30 && got_c == 0; k++) { hive_client_service(fx.cli, 1); hive_server_service(fx.srv, 1); }
    }
    cr_expect_geq(got_c, 1);
    fx_fini(&fx);
}

/* Sends one frame of game:chat ({}) with the given flags byte as an ENet
 * packet on channel 1, sequenced or unsequenced. */
static void raw_send_chat_unreliable(fixture *fx, raw_peer *p, uint8_t flags, bool unsequenced)
{
    int pid = hive_server_packet_id(fx->srv, "game:chat");
    cr_assert_eq(pid, 64, "the frame below is written for pid 64");
    const uint8_t frame[] = { 0x03, 0x40, flags, 0x80 };
    ENetPacket *pk = enet_packet_create(frame, sizeof frame, unsequenced ? ENET_PACKET_FLAG_UNSEQUENCED : 0);
    cr_assert_not_null(pk);
    cr_assert_eq(enet_peer_send(p->peer, 1, pk), 0);
    enet_host_flush(p->host);
}

/* A counted frame (flag 0x02) is reliable by definition: one that comes
 * unreliable, sequenced or unsequenced, closes with bad_frame. An
 * uncounted one on either is simply delivered. */
static void counted_on_channel_1(bool unsequenced)
{
    fixture fx;
    raw_peer p;
    setup(&fx, &p);
    raw_send_chat_unreliable(&fx, &p, 0x00, unsequenced);
    cr_assert(pump_until_event(fx.srv, NULL, 2000, fx.sr, "net:server.recv.game:chat", 1),
              "an uncounted frame on channel 1 (unsequenced %d) was not delivered", unsequenced);
    raw_send_chat_unreliable(&fx, &p, 0x02, unsequenced);
    cr_assert(pump_until_event(fx.srv, NULL, 2000, fx.sr, HIVE_EV_SERVER_CLOSE, 1),
              "a counted frame on channel 1 (unsequenced %d) was accepted", unsequenced);
    cr_expect_str_eq(rec_find(fx.sr, HIVE_EV_SERVER_CLOSE)->reason_name, "bad_frame");
    cr_expect_eq(rec_count(fx.sr, "net:server.recv.game:chat"), 1);
    raw_destroy(&p);
    fx_fini(&fx);
}

Test(delivery, a_counted_frame_sent_unreliable_is_a_bad_frame, .timeout = 30)
{
    counted_on_channel_1(false);
    counted_on_channel_1(true);
}
