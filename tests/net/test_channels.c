/*
 * Channels (hive/registry.h CHANNELS): a packet type on channel k travels
 * on an ordered stream of its own (ENet channels 2k and 2k+1), so a lost
 * reliable packet on one channel never holds up another; every channel
 * keeps its own order and its own count, and a resume brings every one
 * of them back exactly once. A peer with two ENet channels (Hive before
 * channels) and tcp:// get everything on channel 0.
 */
#include "net_test.h"
#include "net/wire/handshake.h"

/* ------------------------------------------------------------------ */
/* On the wire                                                          */
/* ------------------------------------------------------------------ */

static hive_server *lane_server(hive_bus *bus, const char *scheme, const char *netsim, bool lanes)
{
    char addr[64];
    snprintf(addr, sizeof addr, "%s127.0.0.1:0", scheme);
    hive_server_config c = { .addr = addr, .netsim = netsim, .heartbeat_ms = 100, .heartbeat_timeout_ms = 1000 };
    hive_server *s = hive_server_create(&c, bus);
    cr_assert_not_null(s);
    cr_assert_gt(hive_server_register(s, "game:chat", 0, HIVE_RELIABLE), 0);   /* channel 0 */
    cr_assert_gt(hive_server_register(s, "game:pos", 0, HIVE_UNRELIABLE), 0);
    cr_assert_gt(hive_server_register(s, "game:inv", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(s, "game:fx", 0, HIVE_UNORDERED), 0);
    cr_assert_gt(hive_server_register(s, "game:up", 0, HIVE_RELIABLE), 0);
    if (lanes) {
        cr_assert_eq(hive_server_set_channel(s, "game:pos", 1), 0);
        cr_assert_eq(hive_server_set_channel(s, "game:inv", 2), 0);
        cr_assert_eq(hive_server_set_channel(s, "game:fx", 3), 0);
        cr_assert_eq(hive_server_set_channel(s, "game:up", 1), 0);
    }
    cr_expect_eq(hive_server_set_channel(s, "game:none", 1), HIVE_ENOENT);
    cr_expect_eq(hive_server_set_channel(s, "game:chat", HIVE_CHANNELS_MAX), HIVE_EINVAL);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    cr_expect_eq(hive_server_set_channel(s, "game:chat", 1), HIVE_ESTATE, "the table is fixed once started");
    return s;
}

static void raw_pump(hive_server *s, raw_peer *p, int rounds)
{
    hive_server_flush(s);
    for (int i = 0; i < rounds; i++) {
        hive_server_service(s, 1);
        raw_service(p, 1);
    }
}

/* A frame on ENet channel ch, reliable or not, counted or not. */
static void raw_frame_on(raw_peer *p, int ch, bool reliable, uint32_t pid, uint8_t flags, const void *body,
                         size_t len)
{
    uint8_t buf[HIVE__FRAME_HEADER_MAX + 256];
    cr_assert_leq(len, 256u);
    size_t hn = hive__frame_header(buf, pid, flags, len);
    memcpy(buf + hn, body, len);
    ENetPacket *pk = enet_packet_create(buf, hn + len, reliable ? ENET_PACKET_FLAG_RELIABLE : 0);
    cr_assert_not_null(pk);
    cr_assert_eq(enet_peer_send(p->peer, (enet_uint8)ch, pk), 0);
    enet_host_flush(p->host);
}

Test(channels, each_channel_is_its_own_pair_of_enet_channels, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_server *s = lane_server(bus, "", NULL, true);
    raw_peer p;
    raw_connect_n(&p, s, 64);
    cr_expect_eq(p.peer->channelCount, 8u, "the server keeps two ENet channels per channel its table uses (4)");
    raw_handshake(&p, s);
    raw_pump(s, &p, 30);
    cr_assert_eq(rec_count(r, HIVE_EV_SERVER_HANDSHAKE), 1);
    hive_cid cid = (hive_cid)rec_find(r, HIVE_EV_SERVER_HANDSHAKE)->cid;
    memset(p.by_channel, 0, sizeof p.by_channel);
    const uint8_t body = 0x80;
    const struct { const char *name; int ch; bool unseq; } want[] = {
        { "game:chat", 0, false }, { "game:pos", 3, false }, { "game:inv", 4, false }, { "game:fx", 7, true },
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        int before = p.by_channel[want[i].ch], unseq = p.unseq_by_channel[want[i].ch];
        cr_assert_eq(hive_server_send(s, cid, want[i].name, &body, 1), 0);
        raw_pump(s, &p, 30);
        cr_expect_eq(p.by_channel[want[i].ch], before + 1, "%s not on ENet channel %d", want[i].name, want[i].ch);
        cr_expect_eq(p.unseq_by_channel[want[i].ch] - unseq, want[i].unseq ? 1 : 0, "%s", want[i].name);
    }
    /* A broadcast goes on its type's channel too. */
    int before = p.by_channel[4];
    cr_assert_eq(hive_server_broadcast(s, "game:inv", &body, 1, 0), 1, "one connection");
    raw_pump(s, &p, 30);
    cr_expect_eq(p.by_channel[4], before + 1, "broadcast not on the type's channel");
    /* A per-send override keeps the channel and changes the delivery. */
    before = p.by_channel[5];
    cr_assert_eq(hive_server_send_id(s, cid, (uint32_t)hive_server_packet_id(s, "game:inv"), &body, 1,
                                     HIVE_SEND_UNRELIABLE), 0);
    raw_pump(s, &p, 30);
    cr_expect_eq(p.by_channel[5], before + 1, "unreliable on channel 2 is ENet channel 5");
    raw_destroy(&p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    free(r);
}

Test(channels, a_peer_without_channels_gets_everything_on_channel_0, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_server *s = lane_server(bus, "", NULL, true);
    raw_peer p;
    raw_connect(&p, s);
    cr_expect_eq(p.peer->channelCount, 2u);
    raw_handshake(&p, s);
    raw_pump(s, &p, 40);
    cr_assert_eq(rec_count(r, HIVE_EV_SERVER_HANDSHAKE), 1);
    hive_cid cid = (hive_cid)rec_find(r, HIVE_EV_SERVER_HANDSHAKE)->cid;
    memset(p.by_channel, 0, sizeof p.by_channel);
    memset(p.unseq_by_channel, 0, sizeof p.unseq_by_channel);
    const uint8_t body = 0x80;
    cr_assert_eq(hive_server_send(s, cid, "game:inv", &body, 1), 0);
    cr_assert_eq(hive_server_send(s, cid, "game:fx", &body, 1), 0);
    cr_assert_eq(hive_server_broadcast(s, "game:inv", &body, 1, 0), 1, "one connection");
    raw_pump(s, &p, 30);
    cr_expect_geq(p.by_channel[0], 1, "reliable inv: channel 0");
    cr_expect_geq(p.by_channel[1], 1, "unordered fx: channel 1");
    cr_expect_eq(p.unseq_by_channel[1], p.by_channel[1]);
    for (int ch = 2; ch < 64; ch++) cr_expect_eq(p.by_channel[ch], 0);
    raw_destroy(&p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    free(r);
}

/* The client sends ready on channel 0 and may at once send on channel 2:
 * that frame can arrive first. It is the proof of the ready, not a
 * protocol error, and it is delivered, once. */
Test(channels, a_counted_frame_on_another_channel_stands_in_for_the_ready, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_server *s = lane_server(bus, "", NULL, true);
    raw_peer p;
    raw_connect_n(&p, s, 64);
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    raw_send_frame(&p, HIVE__PID_HELLO, hive_msg_data(&m), hive_msg_size(&m));
    hive_msg_free(&m);
    for (int i = 0; i < 400 && p.rx_len == 0; i++) raw_pump(s, &p, 1);
    cr_assert_gt(p.rx_len, 0u, "no welcome");
    uint32_t inv = (uint32_t)hive_server_packet_id(s, "game:inv");
    const uint8_t body = 0x80;
    raw_frame_on(&p, 4, true, inv, HIVE__FLAG_SEQ, &body, 1);   /* game:inv, channel 2, counted */
    raw_pump(s, &p, 30);
    raw_send_frame(&p, HIVE__PID_READY, &body, 1);               /* the ready, late */
    raw_pump(s, &p, 30);
    cr_expect_eq(rec_count(r, "net:server.recv.game:inv"), 1);
    cr_expect_eq(rec_count(r, HIVE_EV_SERVER_HANDSHAKE), 1, "one handshakecomplete");
    cr_expect_eq(rec_count(r, HIVE_EV_SERVER_CLOSE), 0, "the late ready is no error");
    /* Every channel's count in one ack: the right length is fine... */
    uint8_t ack4[] = { 0x94, 0x00, 0x00, 0x00, 0x00 };
    raw_frame_on(&p, 0, true, HIVE__PID_ACK, 0, ack4, sizeof ack4);
    raw_pump(s, &p, 30);
    cr_expect_eq(rec_count(r, HIVE_EV_SERVER_CLOSE), 0, "a well-formed ack of every channel");
    /* ... and one that does not fit the session is a broken peer. */
    uint8_t ack2[] = { 0x92, 0x00, 0x00 };
    raw_frame_on(&p, 0, true, HIVE__PID_ACK, 0, ack2, sizeof ack2);
    raw_pump(s, &p, 30);
    const rec_event *e = rec_find(r, HIVE_EV_SERVER_CLOSE);
    cr_assert_not_null(e, "an ack of two channels in a session of four");
    cr_expect_eq(e->reason, HIVE_CLOSE_BAD_FRAME);
    raw_destroy(&p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    free(r);
}

Test(channels, hive_frames_belong_on_channel_0, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL);
    recorder *r = calloc(1, sizeof *r);
    rec_attach(r, bus);
    hive_server *s = lane_server(bus, "", NULL, true);
    raw_peer p;
    raw_connect_n(&p, s, 64);
    raw_handshake(&p, s);
    raw_pump(s, &p, 30);
    cr_assert_eq(rec_count(r, HIVE_EV_SERVER_HANDSHAKE), 1);
    uint8_t ping[] = { 0x92, 0x01, 0x00 };
    raw_frame_on(&p, 2, true, HIVE__PID_PING, 0, ping, sizeof ping);   /* a ping on channel 1 */
    raw_pump(s, &p, 30);
    const rec_event *e = rec_find(r, HIVE_EV_SERVER_CLOSE);
    cr_assert_not_null(e);
    cr_expect_eq(e->reason, HIVE_CLOSE_BAD_FRAME);
    raw_destroy(&p);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    free(r);
}

/* ------------------------------------------------------------------ */
/* Streams that do not wait for each other                              */
/* ------------------------------------------------------------------ */

typedef struct order {
    uint32_t next[2];          /* per type: the next number expected */
    uint32_t bad;              /* out of order or twice within a type */
    uint32_t overtakes;        /* arrivals of one type before an earlier-sent one of the other */
    uint64_t last_seq_seen;    /* the highest global send number arrived */
} order;

static order g_ord;

static void on_numbered(const hive_event *ev, void *u)
{
    int type = (int)(intptr_t)u;
    hive_msg_view v;
    const msgpack_object *o;
    uint64_t n = 0, g = 0;
    if (hive_event_msg(ev, &v, &o) == 0) {
        hive_msg_get_uint(o, "n", &n);
        hive_msg_get_uint(o, "g", &g);
    }
    hive_msg_view_free(&v);
    if (n != g_ord.next[type]) g_ord.bad++;
    g_ord.next[type] = (uint32_t)n + 1;
    /* g numbers the sends of both types together: arriving below the
     * highest seen means it overtook... the other way round: something
     * sent later arrived first. */
    if (g < g_ord.last_seq_seen) g_ord.overtakes++;
    if (g > g_ord.last_seq_seen) g_ord.last_seq_seen = g;
}

/* The server sends game:chat and game:inv alternately over a link that
 * loses datagrams (netsim: a lost reliable packet arrives a retransmit
 * later). Returns how often a message arrived before one sent earlier. */
static uint32_t race(const char *scheme, bool lanes)
{
    memset(&g_ord, 0, sizeof g_ord);
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *s = lane_server(sbus, scheme, "loss=25%,latency=2ms,seed=11", lanes);
    char addr[64];
    snprintf(addr, sizeof addr, "%s127.0.0.1:%u", scheme, (unsigned)hive_server_port(s));
    hive_client *c = hive_client_create(NULL, cbus);
    hive_bus_subscribe(cbus, "net:client.recv.game:chat", on_numbered, (void *)(intptr_t)0, NULL);
    hive_bus_subscribe(cbus, "net:client.recv.game:inv", on_numbered, (void *)(intptr_t)1, NULL);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000));
    hive_cid cid = hive_client_cid(c);
    hive_msg m;
    hive_msg_init(&m);
    const int N = 200;
    uint32_t n[2] = { 0, 0 };
    for (int i = 0; i < N; i++) {
        int type = i & 1;
        hive_msg_reset(&m);
        hive_msg_map(&m, 2);
        hive_msg_kv_uint(&m, "n", n[type]++);
        hive_msg_kv_uint(&m, "g", (uint64_t)i + 1);
        cr_assert_eq(hive_server_send_msg(s, cid, type ? "game:inv" : "game:chat", &m), 0);
        hive_server_flush(s);   /* one datagram each: each may be lost alone */
        hive_server_service(s, 1);
        hive_client_service(c, 0);
    }
    hive_msg_free(&m);
    uint64_t end = hive_now_ns() + 20000000000ull;
    while ((g_ord.next[0] < n[0] || g_ord.next[1] < n[1]) && hive_now_ns() < end) {
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    cr_expect_eq(g_ord.next[0], n[0], "%s: chat %u of %u", scheme, g_ord.next[0], n[0]);
    cr_expect_eq(g_ord.next[1], n[1], "%s: inv %u of %u", scheme, g_ord.next[1], n[1]);
    cr_expect_eq(g_ord.bad, 0u, "%s: each channel keeps its order, once each", scheme);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
    return g_ord.overtakes;
}

Test(channels, a_lost_packet_holds_up_only_its_own_channel, .timeout = 90)
{
    uint32_t apart = race("", true);
    cr_expect_gt(apart, 0u, "on two channels, inv messages went past chat ones waiting for a retransmit");
    cr_expect_eq(race("", false), 0u, "on one channel, nothing overtakes");
    cr_expect_eq(race("tcp://", true), 0u, "tcp:// has one stream: the channels change nothing");
}

/* ------------------------------------------------------------------ */
/* Resume: every channel exactly once, in order                         */
/* ------------------------------------------------------------------ */

typedef struct stream {
    uint32_t next, got, dup, ooo;
} stream;

static stream g_st[4];   /* 0 chat s->c (ch 0), 1 inv s->c (ch 2), 2 echo c->s (ch 0), 3 up c->s (ch 1) */
static int g_resumed, g_invalid, g_closes;

static void on_stream(const hive_event *ev, void *u)
{
    stream *st = &g_st[(intptr_t)u];
    hive_msg_view v;
    const msgpack_object *o;
    uint64_t n = UINT32_MAX;
    if (hive_event_msg(ev, &v, &o) == 0) hive_msg_get_uint(o, "n", &n);
    hive_msg_view_free(&v);
    if (n == st->next) {
        st->next++;
        st->got++;
    } else if (n < st->next) {
        st->dup++;
    } else {
        st->ooo++;
        st->next = (uint32_t)n + 1;
    }
}

static void on_resumed(const hive_event *ev, void *u) { (void)ev; (void)u; g_resumed++; }
static void on_invalid(const hive_event *ev, void *u) { (void)ev; (void)u; g_invalid++; }
static void on_close(const hive_event *ev, void *u) { (void)ev; (void)u; g_closes++; }

Test(channels, every_channel_resumes_exactly_once_in_order, .timeout = 90)
{
    memset(g_st, 0, sizeof g_st);
    g_resumed = g_invalid = g_closes = 0;
    hive_bus *sbus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL);
    hive_server *s = lane_server(sbus, "", NULL, true);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)hive_server_port(s));
    hive_client_config cc = { .reconnect_attempts = 50, .reconnect_delay_ms = 20, .reconnect_max_delay_ms = 200,
                              .netsim = "cut_every=400ms,latency=3ms,loss=3%,seed=5" };
    hive_client *c = hive_client_create(&cc, cbus);
    hive_bus_subscribe(cbus, "net:client.recv.game:chat", on_stream, (void *)(intptr_t)0, NULL);
    hive_bus_subscribe(cbus, "net:client.recv.game:inv", on_stream, (void *)(intptr_t)1, NULL);
    hive_bus_subscribe(sbus, "net:server.recv.game:chat", on_stream, (void *)(intptr_t)2, NULL);
    hive_bus_subscribe(sbus, "net:server.recv.game:up", on_stream, (void *)(intptr_t)3, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_RESUMED, on_resumed, NULL, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_SESSION_INVALIDATED, on_invalid, NULL, NULL);
    hive_bus_subscribe(cbus, HIVE_EV_CLIENT_CLOSE, on_close, NULL, NULL);
    hive_bus_subscribe(sbus, HIVE_EV_SERVER_CLOSE, on_close, NULL, NULL);
    cr_assert_eq(hive_client_connect(c, addr), 0);
    cr_assert(pump_both_open(s, c, 5000));
    hive_cid cid = hive_client_cid(c);
    hive_msg m;
    hive_msg_init(&m);
    uint32_t sent[4] = { 0 };
    static const char *const names[4] = { "game:chat", "game:inv", "game:chat", "game:up" };
    uint64_t end = hive_now_ns() + 3000000000ull;
    while (hive_now_ns() < end) {
        for (int k = 0; k < 4; k++) {
            hive_msg_reset(&m);
            hive_msg_map(&m, 1);
            hive_msg_kv_uint(&m, "n", sent[k]);
            int rc = k < 2 ? hive_server_send_msg(s, cid, names[k], &m) : hive_client_send_msg(c, names[k], &m);
            if (rc == HIVE_OK) sent[k]++;
        }
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    hive_msg_free(&m);
    uint64_t drain = hive_now_ns() + 30000000000ull;
    bool done = false;
    while (!done && hive_now_ns() < drain) {
        hive_server_service(s, 1);
        hive_client_service(c, 1);
        done = true;
        for (int k = 0; k < 4; k++) done = done && g_st[k].next >= sent[k];
    }
    cr_expect_gt(g_resumed, 0, "no resume happened");
    cr_expect_eq(g_invalid, 0);
    cr_expect_eq(g_closes, 0);
    cr_expect_eq(hive_client_cid(c), cid, "the same session");
    for (int k = 0; k < 4; k++) {
        cr_expect_gt(sent[k], 500u, "stream %d", k);
        cr_expect_eq(g_st[k].got, sent[k], "stream %d (%s): %u of %u", k, names[k], g_st[k].got, sent[k]);
        cr_expect_eq(g_st[k].dup + g_st[k].ooo, 0u, "stream %d: dup %u, out of order %u", k, g_st[k].dup,
                     g_st[k].ooo);
    }
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(sbus);
    hive_bus_destroy(cbus);
}

/* A session on several lanes (channels over enet) can be adopted only by a
 * server whose links carry lanes: elsewhere it could never resume, and
 * refusing at once keeps the player at the source (HANDOFF). */
Test(channels, a_session_on_lanes_moves_only_where_links_carry_them, .timeout = 30)
{
    hive_bus *bus = hive_bus_create(NULL), *cbus = hive_bus_create(NULL), *tb = hive_bus_create(NULL),
             *eb = hive_bus_create(NULL);
    hive_server *s = lane_server(bus, "enet://", NULL, true);
    hive_client *c = hive_client_create(&(hive_client_config){ .reconnect_attempts = 3 }, cbus);
    char addr[64];
    snprintf(addr, sizeof addr, "enet://127.0.0.1:%u", (unsigned)hive_server_port(s));
    cr_assert_eq(hive_client_connect(c, addr), HIVE_OK);
    cr_assert(pump_both_open(s, c, 3000));
    hive_msg t;
    hive_msg_init(&t);
    cr_assert_eq(hive_server_handoff_begin(s, hive_client_cid(c), NULL, 0, &t), HIVE_OK);
    hive_server *on_tcp = lane_server(tb, "tcp://", NULL, true);
    hive_server *on_enet = lane_server(eb, "enet://", NULL, true);
    hive_bus *mb = hive_bus_create(NULL), *mb2 = hive_bus_create(NULL);
    /* several listeners: tcp and ws carry one lane; with enet among them, lanes */
    hive_server *on_tcp_ws = lane_server(mb, "tcp://127.0.0.1:0,ws://", NULL, true);
    hive_server *on_tcp_enet = lane_server(mb2, "tcp://127.0.0.1:0,enet://", NULL, true);
    hive_cid cid;
    uint8_t tok[HIVE_HANDOFF_TOKEN_BYTES];
    cr_expect_eq(hive_server_adopt(on_tcp, hive_msg_data(&t), hive_msg_size(&t), &cid, tok), HIVE_ESTATE);
    cr_expect_eq(hive_server_adopt(on_tcp_ws, hive_msg_data(&t), hive_msg_size(&t), &cid, tok), HIVE_ESTATE);
    cr_expect_eq(hive_server_adopt(on_tcp_enet, hive_msg_data(&t), hive_msg_size(&t), &cid, tok), HIVE_OK);
    cr_expect_eq(hive_server_adopt(on_enet, hive_msg_data(&t), hive_msg_size(&t), &cid, tok), HIVE_OK);
    hive_server_destroy(on_tcp_ws);
    hive_server_destroy(on_tcp_enet);
    hive_bus_destroy(mb);
    hive_bus_destroy(mb2);
    hive_msg_free(&t);
    cr_expect_eq(hive_server_handoff_cancel(s, hive_client_cid(c)), HIVE_OK);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_server_destroy(on_tcp);
    hive_server_destroy(on_enet);
    hive_bus_destroy(bus);
    hive_bus_destroy(cbus);
    hive_bus_destroy(tb);
    hive_bus_destroy(eb);
}
