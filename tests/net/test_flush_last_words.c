/*
 * A peer's last reliable packets reach the server even when they arrive
 * during a large flush. A flush to more links than the ENet transport hands
 * over in one slice reads the socket between slices (so that the kernel's
 * buffer does not overflow), but publishes nothing. A peer that sends a
 * message and its close frame and then disconnects gets its disconnect out
 * one round trip later, as soon as the server acknowledged the data: if
 * that disconnect is read by the next flush too, before any service call
 * handed the data out, the message and the close must still be delivered,
 * in order, and the close is the peer's (normal, with its message), not
 * peer_vanished.
 *
 * A connect that completes during the flushes is accepted after them.
 * (The transport's side of this, with aborts and destroy, is
 * test_enet_flush_events.c.)
 *
 * The crowd (more than one flush slice of open connections) is raw ENet
 * peers on one host; the leaving player is a raw peer too, so the test
 * decides exactly when each datagram is sent. Loopback UDP delivers a
 * datagram into the receiving socket before sendto returns, so the order
 * of events below does not depend on timing.
 */
#include "net_test.h"
#include "net/wire/handshake.h"

#define CROWD 300             /* more than one flush slice (256 links) */

typedef struct seen {
    hive_cid cid;             /* the leaving player */
    int chats;                /* its game:chat recv events */
    char chat_text[64];
    int closes;
    int64_t close_reason, close_remote;
    char close_message[64];
    int chat_after_close;     /* a chat published after the close: order broken */
    int accepts;              /* accept events (of anybody) */
} seen;

static void on_chat(const hive_event *ev, void *user)
{
    seen *s = user;
    if (hive_event_int(ev, "cid", -1) != (int64_t)s->cid) return;
    if (s->closes) s->chat_after_close++;
    s->chats++;
    hive_msg_view v;
    const msgpack_object *o;
    if (hive_event_msg(ev, &v, &o) == 0) {
        const char *t;
        size_t n;
        if (hive_msg_get_str(o, "text", &t, &n) == 0)
            snprintf(s->chat_text, sizeof s->chat_text, "%.*s", (int)n, t);
    }
    hive_msg_view_free(&v);
}

static void on_close(const hive_event *ev, void *user)
{
    seen *s = user;
    if (hive_event_int(ev, "cid", -1) != (int64_t)s->cid) return;
    s->closes++;
    s->close_reason = hive_event_int(ev, "reason", -1);
    s->close_remote = hive_event_int(ev, "remote", -1);
    const char *m = hive_event_str(ev, "message");
    snprintf(s->close_message, sizeof s->close_message, "%s", m ? m : "");
}

static void on_accept(const hive_event *ev, void *user)
{
    seen *s = user;
    s->accepts++;
}

/* CROWD raw peers on one ENet host, each through Hive's handshake. */
typedef struct crowd {
    ENetHost *host;
    ENetPeer *peer[CROWD];
    bool welcomed[CROWD];
    int connected, welcomes;
} crowd;

static void crowd_service(crowd *c)
{
    ENetEvent ev;
    while (enet_host_service(c->host, &ev, 0) > 0) {
        size_t i = (size_t)(uintptr_t)ev.peer->data;
        if (ev.type == ENET_EVENT_TYPE_CONNECT) {
            c->connected++;
        } else if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
            hive__frame f;
            if (!c->welcomed[i] && hive__frame_decode(ev.packet->data, ev.packet->dataLength, 1 << 20, &f) == 1 &&
                f.pid == HIVE__PID_WELCOME) {
                c->welcomed[i] = true;
                c->welcomes++;
            }
            enet_packet_destroy(ev.packet);
        }
    }
}

static void crowd_send_frame(ENetPeer *p, uint32_t pid, const void *body, size_t len)
{
    uint8_t buf[HIVE__FRAME_HEADER_MAX + 256];
    cr_assert_leq(len, 256u);
    size_t hn = hive__frame_header(buf, pid, 0, len);
    memcpy(buf + hn, body, len);
    ENetPacket *pk = enet_packet_create(buf, hn + len, ENET_PACKET_FLAG_RELIABLE);
    cr_assert_not_null(pk);
    cr_assert_eq(enet_peer_send(p, 0, pk), 0);
}

static void crowd_join(crowd *c, hive_server *s)
{
    memset(c, 0, sizeof *c);
    c->host = enet_host_create(NULL, CROWD, 2, 0, 0);
    cr_assert_not_null(c->host);
    ENetAddress a;
    enet_address_set_host(&a, "127.0.0.1");
    a.port = hive_server_port(s);
    for (size_t i = 0; i < CROWD; i++) {
        c->peer[i] = enet_host_connect(c->host, &a, 2, 0);
        cr_assert_not_null(c->peer[i]);
        c->peer[i]->data = (void *)(uintptr_t)i;
    }
    uint64_t end = hive_now_ns() + 10000000000ull;
    while (c->connected < CROWD && hive_now_ns() < end) {
        crowd_service(c);
        hive_server_service(s, 1);
    }
    cr_assert_eq(c->connected, CROWD, "only %d of %d crowd peers connected", c->connected, CROWD);
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    for (size_t i = 0; i < CROWD; i++) crowd_send_frame(c->peer[i], HIVE__PID_HELLO, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    enet_host_flush(c->host);
    while (c->welcomes < CROWD && hive_now_ns() < end) {
        hive_server_service(s, 1);
        crowd_service(c);
    }
    cr_assert_eq(c->welcomes, CROWD, "only %d of %d crowd peers were welcomed", c->welcomes, CROWD);
    uint8_t ready = 0x80;   /* {} */
    for (size_t i = 0; i < CROWD; i++) crowd_send_frame(c->peer[i], HIVE__PID_READY, &ready, 1);
    enet_host_flush(c->host);
}

/* s has `want` connections, all open (their handshake is complete). */
static bool all_open(hive_server *s, size_t want)
{
    hive_cid cids[CROWD + 8];
    size_t n = hive_server_connections(s, cids, CROWD + 8);
    if (n != want) return false;
    for (size_t i = 0; i < n; i++) {
        hive_conn_info ci;
        if (hive_server_conn_info(s, cids[i], &ci) != 0 || !ci.open) return false;
    }
    return true;
}

/* A server with CROWD open raw connections and one more, the leaving
 * player, all settled. */
typedef struct stage {
    hive_bus *bus;
    hive_server *srv;
    int chat;                 /* game:chat's packet id */
    seen sn;
    crowd cw;
    raw_peer p;
} stage;

static void stage_service(stage *st)
{
    hive_server_service(st->srv, 1);
    crowd_service(&st->cw);
    raw_service(&st->p, 0);
}

static void stage_init(stage *st)
{
    memset(st, 0, sizeof *st);
    cr_assert_eq(enet_initialize(), 0);
    st->bus = hive_bus_create(NULL);
    st->srv = hive_server_create(&(hive_server_config){
        .addr = "127.0.0.1:0", .max_connections = CROWD + 8,
        /* the crowd joins at once, from one address (one host on 127.0.0.1) */
        .max_handshakes = CROWD + 8, .max_handshakes_per_addr = CROWD + 8,
        .max_peers_per_addr = CROWD + 8 }, st->bus);
    cr_assert_not_null(st->srv);
    st->chat = hive_server_register(st->srv, "game:chat", 0, HIVE_RELIABLE);
    cr_assert_gt(st->chat, 0);
    cr_assert_gt(hive_server_register(st->srv, "game:tick", 0, HIVE_RELIABLE), 0);
    cr_assert_eq(hive_server_start(st->srv), HIVE_OK);
    cr_assert_gt(hive_bus_subscribe(st->bus, "net:server.recv.game:chat", on_chat, &st->sn, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(st->bus, HIVE_EV_SERVER_CLOSE, on_close, &st->sn, NULL), 0);
    cr_assert_gt(hive_bus_subscribe(st->bus, HIVE_EV_SERVER_ACCEPT, on_accept, &st->sn, NULL), 0);

    crowd_join(&st->cw, st->srv);
    raw_connect(&st->p, st->srv);
    raw_handshake(&st->p, st->srv);
    for (int i = 0; i < 2000 && !all_open(st->srv, CROWD + 1); i++) stage_service(st);
    cr_assert(all_open(st->srv, CROWD + 1), "%zu of %d connections",
              hive_server_connection_count(st->srv), CROWD + 1);
    /* The leaving player's cid: the newest connection. */
    hive_cid cids[CROWD + 8];
    size_t n = hive_server_connections(st->srv, cids, CROWD + 8);
    cr_assert_eq(n, (size_t)CROWD + 1);
    for (size_t i = 0; i < n; i++)
        if (cids[i] > st->sn.cid) st->sn.cid = cids[i];
    /* Everything the handshakes left in flight is handed out. */
    for (int i = 0; i < 20; i++) stage_service(st);
}

static void stage_fini(stage *st)
{
    raw_destroy(&st->p);
    enet_host_destroy(st->cw.host);
    hive_server_destroy(st->srv);
    hive_bus_destroy(st->bus);
    enet_deinitialize();
}

/* One broadcast to everybody and a flush: more than a slice, so the
 * transport reads the socket in the middle of it. Nothing is published. */
static void big_flush(stage *st)
{
    int before = st->sn.chats + st->sn.closes + st->sn.accepts;
    hive_msg m;
    text_msg(&m, "tick");
    cr_assert_geq(hive_server_broadcast(st->srv, "game:tick", hive_msg_data(&m), hive_msg_size(&m), 0), CROWD);
    hive_msg_free(&m);
    cr_assert_eq(hive_server_flush(st->srv), HIVE_OK);
    cr_assert_eq(st->sn.chats + st->sn.closes + st->sn.accepts, before,
                 "something was published inside hive_server_flush");
}

/* The leaving player's last words: a message and the close frame, then
 * ENet's disconnect once both are acknowledged. Flush 1 reads both
 * packets and acknowledges them; the acknowledgements reach the player,
 * whose disconnect leaves; flush 2 reads it. No service call between. */
static void last_words_in_flushes(stage *st)
{
    raw_peer *p = &st->p;
    hive_msg m;
    text_msg(&m, "last words");
    raw_send_frame(p, (uint32_t)st->chat, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    hive_msg_init(&m);
    cr_assert_eq(hive__close_pack(&m, HIVE_CLOSE_NORMAL, "bye", -1, NULL), 0);
    raw_send_frame(p, HIVE__PID_CLOSE, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    enet_peer_disconnect_later(p->peer, 0);

    big_flush(st);
    for (int i = 0; i < 200 && p->peer->state != ENET_PEER_STATE_DISCONNECTING; i++) raw_service(p, 1);
    cr_assert_eq(p->peer->state, ENET_PEER_STATE_DISCONNECTING, "the disconnect was not sent");
    big_flush(st);
}

Test(flush_last_words, message_and_close_read_during_flushes_are_delivered, .timeout = 60)
{
    stage *st = calloc(1, sizeof *st);
    cr_assert_not_null(st);
    stage_init(st);
    last_words_in_flushes(st);
    for (int i = 0; i < 3000 && !st->sn.closes; i++) stage_service(st);
    seen *sn = &st->sn;
    cr_expect_eq(sn->chats, 1, "the last message was %s", sn->chats ? "duplicated" : "lost");
    cr_expect_str_eq(sn->chat_text, "last words");
    cr_assert_eq(sn->closes, 1, "the server never closed the leaving player");
    cr_expect_eq(sn->chat_after_close, 0);
    cr_expect_str_eq(hive_close_reason_name((int)sn->close_reason), "normal");
    cr_expect_eq(sn->close_remote, 1, "the close is the player's own");
    cr_expect_str_eq(sn->close_message, "bye");
    /* The crowd is still served. */
    cr_expect(all_open(st->srv, CROWD), "the crowd lost connections");
    stage_fini(st);
    free(st);
}

/* A newcomer's connect completes in flush 2 (flush 1 read its request
 * and answered): the server accepts it after the flush, and it can
 * complete the handshake. */
static void newcomer_in_flushes(stage *st, raw_peer *nc)
{
    memset(nc, 0, sizeof *nc);
    nc->host = enet_host_create(NULL, 1, 2, 0, 0);
    cr_assert_not_null(nc->host);
    ENetAddress a;
    enet_address_set_host(&a, "127.0.0.1");
    a.port = hive_server_port(st->srv);
    nc->peer = enet_host_connect(nc->host, &a, 2, 0);
    cr_assert_not_null(nc->peer);
    enet_host_flush(nc->host);
    big_flush(st);
    for (int i = 0; i < 200 && !nc->connected; i++) raw_service(nc, 1);
    cr_assert(nc->connected, "the server did not answer the connect inside its flush");
    big_flush(st);
}

Test(flush_last_words, connect_completed_during_a_flush_is_accepted_after_it, .timeout = 60)
{
    stage *st = calloc(1, sizeof *st);
    cr_assert_not_null(st);
    stage_init(st);
    int accepts = st->sn.accepts;
    raw_peer *nc = calloc(1, sizeof *nc);
    cr_assert_not_null(nc);
    newcomer_in_flushes(st, nc);
    for (int i = 0; i < 2000 && st->sn.accepts == accepts; i++) stage_service(st);
    cr_assert_eq(st->sn.accepts, accepts + 1, "the newcomer was not accepted");
    raw_handshake(nc, st->srv);
    for (int i = 0; i < 2000 && !all_open(st->srv, CROWD + 2); i++) {
        stage_service(st);
        raw_service(nc, 0);
    }
    cr_expect(all_open(st->srv, CROWD + 2), "the newcomer's handshake did not complete");
    raw_destroy(nc);
    free(nc);
    stage_fini(st);
    free(st);
}
