/* enet+tls:// driven directly: TLS on channel 0, sealed datagrams on 1. */
#include <criterion/criterion.h>
#include "certgen.h"
#include "trpair.h"
#include "udpproxy.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(transport_enet_tls, .init = setup, .fini = teardown, .timeout = 30);

typedef struct side {
    hive__transport *t;
    rec r;
    hive_tls_config tls;
} side;

static void side_make(side *s, bool secure)
{
    hive__transport_cb cb = rec_cb(&s->r);
    hive__transport_opts o = { .tls = &s->tls, .timeout_ms = 3000, .max_frame = 65536 };
    int r = secure ? hive__transport_enet_tls_create(&cb, &o, &s->t) : hive__transport_enet_create(&cb, &o, &s->t);
    cr_assert_eq(r, 0);
    s->r.t = s->t;
}

static uint16_t listen_any(side *s)
{
    hive__addr a = { .host = "127.0.0.1", .port = 0 };
    strcpy(a.scheme, s->t->vt->scheme);
    cr_assert_eq(s->t->vt->listen(s->t, &a), 0);
    return s->t->vt->bound_port(s->t);
}

static void dial(side *s, const char *host, uint16_t port)
{
    hive__addr a = { .port = port };
    snprintf(a.host, sizeof a.host, "%s", host);
    strcpy(a.scheme, s->t->vt->scheme);
    hive__link *l = NULL;
    cr_assert_eq(s->t->vt->connect(s->t, &a, &l), 0);
    rec_add(&s->r, l);
}

static void side_free(side *s)
{
    if (s->t) s->t->vt->destroy(s->t);
    rec_free(&s->r);
}

typedef struct world { side *srv, *cli; udpproxy *px; int want; } world;

static bool run(world *w, int ms, bool (*pred)(world *))
{
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (hive_now_ns() < end) {
        w->srv->t->vt->service(w->srv->t, 1);
        if (w->px) proxy_pump(w->px);
        w->cli->t->vt->service(w->cli->t, 1);
        if (w->px) proxy_pump(w->px);
        if (pred && pred(w)) return true;
    }
    return pred ? pred(w) : true;
}

static bool up(world *w)
{
    return w->cli->r.links[0].connected && w->srv->r.n >= 1;
}
static bool both_gone(world *w) { return w->cli->r.links[0].gone && w->srv->r.n >= 1 && w->srv->r.links[0].gone; }
static bool srv_reliable(world *w) { return w->srv->r.n >= 1 && w->srv->r.links[0].packets[0] >= w->want; }
static bool srv_unreliable(world *w) { return w->srv->r.links[0].packets[1] >= w->want; }

static void send_one(side *s, const void *p, size_t n, int reliable)
{
    const void *pieces[1] = { p };
    size_t lens[1] = { n };
    cr_assert_eq(s->t->vt->send(s->t, s->r.links[0].link, pieces, lens, 1, reliable), 0);
    s->t->vt->flush(s->t);
}

static void connect_pair(side *srv, side *cli, udpproxy *px, world *w)
{
    side_make(srv, true);
    side_make(cli, true);
    uint16_t port = listen_any(srv);
    if (px) {
        cr_assert(proxy_open(px, port));
        port = px->port;
    }
    dial(cli, "127.0.0.1", port);
    *w = (world){ srv, cli, px, 0 };
    cr_assert(run(w, 5000, up), "TLS over ENet comes up: client '%s'", cli->r.links[0].message);
}

Test(transport_enet_tls, handshake_batches_and_datagrams)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                          .client_auth = HIVE_TLS_CLIENT_REQUIRE } };
    side cli = { .tls = { .ca_file = C.ca, .cert_file = C.client_crt, .key_file = C.client_key } };
    world w;
    connect_pair(&srv, &cli, NULL, &w);
    cr_expect_str_eq(srv.t->vt->scheme, "enet+tls");
    cr_expect_not(srv.t->vt->stream, "datagram semantics, like enet");
    cr_expect_str_eq(cli.r.links[0].subject, "CN=localhost,O=Hive Test");

    /* Reliable: two batches arrive as two deliveries, byte-exact; a big
     * one (over one TLS record and one ENet packet) arrives whole. */
    send_one(&cli, "first-batch", 11, true);
    send_one(&cli, "second", 6, true);
    w.want = 2;
    cr_assert(run(&w, 3000, srv_reliable));
    cr_expect_str_eq(srv.r.links[0].subject, "CN=player-one,O=Hive Test");
    cr_expect_eq(srv.r.links[0].len, 17);
    cr_expect_eq(memcmp(srv.r.links[0].data, "first-batchsecond", 17), 0);
    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 31 + 7);
    send_one(&cli, big, sizeof big, true);
    w.want = 3;
    cr_assert(run(&w, 5000, srv_reliable));
    cr_expect_eq(srv.r.links[0].bytes[0], 17 + sizeof big);
    cr_expect_eq(memcmp(srv.r.links[0].data + 17, big, sizeof big), 0);

    /* Unreliable, both directions. */
    for (int i = 0; i < 10; i++) send_one(&cli, "unreliable-ping", 15, false);
    w.want = 8;   /* loopback loses nothing in practice; allow a little */
    cr_assert(run(&w, 3000, srv_unreliable), "got %d", srv.r.links[0].packets[1]);
    send_one(&srv, "unreliable-pong", 15, false);
    uint64_t end = hive_now_ns() + 2000000000u;
    while (hive_now_ns() < end && cli.r.links[0].packets[1] < 1) run(&w, 5, NULL);
    cr_expect_eq(cli.r.links[0].packets[1], 1);
    cr_expect_eq(memcmp(cli.r.links[0].data, "unreliable-pong", 15), 0);

    hive__transport_stats st;
    cr_assert_eq(srv.t->vt->stats(srv.t, &st), 0);
    cr_expect_geq(st.sealed_opened, 8);
    cr_expect_eq(st.sealed_rejected + st.sealed_replayed, 0);

    /* Graceful close from the client. */
    cli.t->vt->close(cli.t, cli.r.links[0].link, 0);
    cr_assert(run(&w, 5000, both_gone));
    cr_expect_eq(cli.r.links[0].reason, HIVE_CLOSE_NORMAL);
    side_free(&cli);
    side_free(&srv);
}

Test(transport_enet_tls, bit_flipped_datagrams_are_dropped_and_counted)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    udpproxy px;
    world w;
    connect_pair(&srv, &cli, &px, &w);
    px.mode = PROXY_FLIP;
    for (int i = 0; i < 40; i++) {
        char msg[48];
        snprintf(msg, sizeof msg, "move %02d x=100 y=200 padding", i % 100);
        send_one(&cli, msg, strlen(msg), false);
        run(&w, 2, NULL);
    }
    run(&w, 300, NULL);
    cr_assert_geq(px.flipped, 15, "the proxy tampered (%llu)", (unsigned long long)px.flipped);
    hive__transport_stats st;
    srv.t->vt->stats(srv.t, &st);
    cr_expect_eq(st.sealed_rejected + st.sealed_replayed, px.flipped,
                 "every tampered datagram dropped and counted: rejected %llu replay %llu, flipped %llu",
                 (unsigned long long)st.sealed_rejected, (unsigned long long)st.sealed_replayed,
                 (unsigned long long)px.flipped);
    cr_expect_eq((uint64_t)srv.r.links[0].packets[1], px.unreliable_seen - px.flipped,
                 "only untouched datagrams reach the core");
    cr_expect_eq(st.sealed_opened, px.unreliable_seen - px.flipped);
    /* Every delivered datagram is one the client sent, intact. */
    rec_link *sl = &srv.r.links[0];
    for (size_t off = 0; off + 5 <= sl->len; ) {
        cr_assert_eq(memcmp(sl->data + off, "move ", 5), 0);
        off += strlen("move 00 x=100 y=200 padding");
    }
    /* The connection survives and still carries reliable data. */
    px.mode = PROXY_PASS;
    send_one(&cli, "still-here", 10, true);
    w.want = 1;
    cr_assert(run(&w, 3000, srv_reliable));
    cr_expect_not(srv.r.links[0].gone);
    cr_expect_not(cli.r.links[0].gone);
    side_free(&cli);
    side_free(&srv);
    proxy_close(&px);
}

Test(transport_enet_tls, replayed_datagrams_are_dropped)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    udpproxy px;
    world w;
    connect_pair(&srv, &cli, &px, &w);
    px.mode = PROXY_REPLAY;
    for (int i = 0; i < 20; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "shot %02d", i % 100);
        send_one(&cli, msg, strlen(msg), false);
        run(&w, 2, NULL);
    }
    run(&w, 300, NULL);
    cr_assert_geq(px.replayed, 10);
    hive__transport_stats st;
    srv.t->vt->stats(srv.t, &st);
    cr_expect_eq(st.sealed_replayed, px.replayed, "replays counted (%llu of %llu)",
                 (unsigned long long)st.sealed_replayed, (unsigned long long)px.replayed);
    cr_expect_eq(srv.r.links[0].packets[1], 1, "only the original got through");
    cr_expect_eq(memcmp(srv.r.links[0].data, "shot 00", 7), 0);
    cr_expect_not(srv.r.links[0].gone);
    side_free(&cli);
    side_free(&srv);
    proxy_close(&px);
}

Test(transport_enet_tls, unknown_ca_is_a_tls_error_on_both_sides)
{
    side srv = { .tls = { .cert_file = C.rogue_crt, .key_file = C.rogue_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    side_make(&srv, true);
    side_make(&cli, true);
    dial(&cli, "127.0.0.1", listen_any(&srv));
    world w = { &srv, &cli, NULL, 0 };
    cr_assert(run(&w, 5000, both_gone), "client gone %d (%s), server links %d gone %d (%s)",
              cli.r.links[0].gone, cli.r.links[0].message, srv.r.n, srv.r.links[0].gone, srv.r.links[0].message);
    cr_expect_not(cli.r.links[0].connected);
    cr_expect_eq(cli.r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect(strstr(cli.r.links[0].message, "unable to get local issuer certificate") != NULL, "%s",
              cli.r.links[0].message);
    cr_expect_eq(srv.r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect(strstr(srv.r.links[0].message, "unknown ca") != NULL, "%s", srv.r.links[0].message);
    side_free(&cli);
    side_free(&srv);
}

Test(transport_enet_tls, plain_enet_client_is_closed_and_server_goes_on)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    side plain = { 0 }, good = { .tls = { .ca_file = C.ca } };
    side_make(&srv, true);
    side_make(&plain, false);
    side_make(&good, true);
    uint16_t port = listen_any(&srv);
    dial(&plain, "127.0.0.1", port);
    world w = { &srv, &plain, NULL, 0 };
    static const uint8_t hello[] = { 0x0f, 0x01, 0x00, 0x81, 0xa5, 'm', 'a', 'g', 'i', 'c',
                                     0xa4, 'H', 'I', 'V', 'E', 0xc0 };
    uint64_t end = hive_now_ns() + 3000000000u;
    while (hive_now_ns() < end && !plain.r.links[0].connected) run(&w, 5, NULL);
    cr_assert(plain.r.links[0].connected, "ENet itself connects");
    send_one(&plain, hello, sizeof hello, true);
    cr_assert(run(&w, 5000, both_gone));
    cr_expect_eq(srv.r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect(strstr(srv.r.links[0].message, "error:") != NULL, "%s", srv.r.links[0].message);
    cr_expect_eq(srv.r.links[0].len, 0);
    /* Others are still served. */
    dial(&good, "127.0.0.1", port);
    world w2 = { &srv, &good, NULL, 0 };
    end = hive_now_ns() + 5000000000u;
    while (hive_now_ns() < end && !good.r.links[0].connected) run(&w2, 5, NULL);
    cr_expect(good.r.links[0].connected, "%s", good.r.links[0].message);
    side_free(&good);
    side_free(&plain);
    side_free(&srv);
}

/* Datagrams that arrive swapped in pairs: unordered ones are all opened
 * and delivered (ENet unsequenced, the AEAD's replay window takes the
 * late one); sequenced ones lose the late one of each pair, as ENet's
 * sequencing drops it. */
static void swapped_pairs(int dlv, int *delivered, uint64_t *swapped, uint64_t *replayed)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    udpproxy px;
    world w;
    connect_pair(&srv, &cli, &px, &w);
    px.mode = PROXY_SWAP;
    for (int i = 0; i < 20; i++) {
        char msg[24];
        snprintf(msg, sizeof msg, "shot %02d", i);
        send_one(&cli, msg, strlen(msg), dlv);
        run(&w, 3, NULL);
    }
    run(&w, 300, NULL);
    *delivered = srv.r.links[0].packets[1] + srv.r.links[0].packets[2];
    *swapped = px.swapped;
    hive__transport_stats st;
    srv.t->vt->stats(srv.t, &st);
    *replayed = st.sealed_replayed + st.sealed_rejected;
    if (dlv == HIVE__DLV_UNORDERED) cr_expect_eq(srv.r.links[0].packets[1], 0, "unordered reported as sequenced");
    cr_expect_not(srv.r.links[0].gone);
    side_free(&cli);
    side_free(&srv);
    proxy_close(&px);
}

Test(transport_enet_tls, unordered_datagrams_survive_reordering)
{
    int got;
    uint64_t swapped, bad;
    swapped_pairs(HIVE__DLV_UNORDERED, &got, &swapped, &bad);
    cr_assert_geq(swapped, 9, "the proxy swapped %llu pairs", (unsigned long long)swapped);
    cr_expect_eq(got, 20, "unordered: %d of 20 delivered", got);
    cr_expect_eq(bad, 0u, "a late sealed datagram was refused");
    swapped_pairs(HIVE__DLV_SEQUENCED, &got, &swapped, &bad);
    cr_assert_geq(swapped, 9);
    cr_expect_leq(got, 20 - 9, "sequenced: %d of 20 delivered, the late ones were not dropped", got);
}
