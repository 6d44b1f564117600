/* tcp:// and tls:// transports driven directly, without the core. */
#include <criterion/criterion.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "certgen.h"
#include "trpair.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(transport_tcp, .init = setup, .fini = teardown, .timeout = 20);

typedef struct side {
    hive__transport *t;
    rec r;
    hive_tls_config tls;
} side;

static void side_make(side *s, int (*ctor)(const hive__transport_cb *, const hive__transport_opts *,
                                           hive__transport **))
{
    hive__transport_cb cb = rec_cb(&s->r);
    hive__transport_opts o = { .tls = &s->tls, .timeout_ms = 3000 };
    cr_assert_eq(ctor(&cb, &o, &s->t), 0);
    s->r.t = s->t;
}

static uint16_t listen_any(side *s)
{
    hive__addr a = { .host = "127.0.0.1", .port = 0 };
    strcpy(a.scheme, s->t->vt->scheme);
    int r = s->t->vt->listen(s->t, &a);
    cr_assert_eq(r, 0, "listen: %d", r);
    uint16_t port = s->t->vt->bound_port(s->t);
    cr_assert_neq(port, 0);
    return port;
}

static hive__link *dial(side *s, const char *host, uint16_t port)
{
    hive__addr a = { .port = port };
    snprintf(a.host, sizeof a.host, "%s", host);
    strcpy(a.scheme, s->t->vt->scheme);
    hive__link *l = NULL;
    cr_assert_eq(s->t->vt->connect(s->t, &a, &l), 0);
    rec_add(&s->r, l);
    return l;
}

static void side_free(side *s)
{
    if (s->t) s->t->vt->destroy(s->t);
    rec_free(&s->r);
}

typedef struct two { side *srv, *cli; size_t want; } two;

static bool both_connected(void *arg)
{
    two *w = arg;
    return w->cli->r.links[0].connected && w->srv->r.n >= 1 && !w->cli->r.links[0].gone;
}
static bool client_gone(void *arg) { return ((two *)arg)->cli->r.links[0].gone; }
static bool both_gone(void *arg)
{
    two *w = arg;
    return w->cli->r.links[0].gone && w->srv->r.n >= 1 && w->srv->r.links[0].gone;
}
static bool server_has(void *arg)
{
    two *w = arg;
    return w->srv->r.n >= 1 && w->srv->r.links[0].len >= w->want;
}
static bool client_has(void *arg) { two *w = arg; return w->cli->r.links[0].len >= w->want; }

static void exchange(side *srv, side *cli)
{
    two w = { srv, cli, 0 };
    hive__link *cl = cli->r.links[0].link;
    /* 1 MiB from the client in 3 pieces per "frame": partial writes and reads. */
    enum { CHUNK = 1000, COUNT = 1049 };
    static uint8_t body[CHUNK];
    for (int i = 0; i < CHUNK; i++) body[i] = (uint8_t)(i * 13);
    for (int i = 0; i < COUNT; i++) {
        uint8_t hdr[2] = { (uint8_t)i, (uint8_t)(i >> 8) };
        const void *pieces[3] = { hdr, body, "!" };
        size_t lens[3] = { 2, CHUNK, 1 };
        cr_assert_eq(cli->t->vt->send(cli->t, cl, pieces, lens, 3, true), 0);
        if (i % 100 == 99) cli->t->vt->flush(cli->t);
    }
    w.want = (size_t)COUNT * (CHUNK + 3);
    cr_assert(pump_until(srv->t, cli->t, 8000, server_has, &w), "server got %zu of %zu",
              srv->r.links[0].len, w.want);
    cr_assert_eq(srv->r.links[0].len, w.want, "nothing extra");
    rec_link *sl = &srv->r.links[0];
    for (int i = 0; i < COUNT; i++) {
        const uint8_t *f = sl->data + (size_t)i * (CHUNK + 3);
        cr_assert_eq(f[0], (uint8_t)i);
        cr_assert_eq(f[1], (uint8_t)(i >> 8));
        cr_assert_eq(memcmp(f + 2, body, CHUNK), 0);
        cr_assert_eq(f[2 + CHUNK], '!');
    }
    /* And back. */
    const void *pieces[1] = { "welcome" };
    size_t lens[1] = { 7 };
    cr_assert_eq(srv->t->vt->send(srv->t, sl->link, pieces, lens, 1, false), 0);
    w.want = 7;
    cr_assert(pump_until(srv->t, cli->t, 3000, client_has, &w));
    cr_expect_eq(memcmp(cli->r.links[0].data, "welcome", 7), 0);
    cr_expect_geq(cli->t->vt->rtt_ms(cli->t, cl), 0);
}

static void graceful_close(side *srv, side *cli)
{
    two w = { srv, cli, 0 };
    cli->t->vt->close(cli->t, cli->r.links[0].link, 0);
    /* The peer's core answers a close by closing too. */
    bool saw = false;
    uint64_t end = hive_now_ns() + 3000000000u;
    while (hive_now_ns() < end && !both_gone(&w)) {
        srv->t->vt->service(srv->t, 1);
        cli->t->vt->service(cli->t, 1);
        if (!saw && srv->r.links[0].gone) saw = true;
    }
    cr_assert(both_gone(&w));
    cr_expect_eq(cli->r.links[0].reason, HIVE_CLOSE_NORMAL, "closer: %d", cli->r.links[0].reason);
    cr_expect(srv->r.links[0].reason == HIVE_CLOSE_NORMAL || srv->r.links[0].reason == HIVE_CLOSE_PEER_VANISHED,
              "peer: %d", srv->r.links[0].reason);
}

Test(transport_tcp, tcp_connect_exchange_close)
{
    side srv = { 0 }, cli = { 0 };
    side_make(&srv, hive__transport_tcp_create);
    side_make(&cli, hive__transport_tcp_create);
    cr_expect_str_eq(srv.t->vt->scheme, "tcp");
    cr_expect(srv.t->vt->stream);
    uint16_t port = listen_any(&srv);
    dial(&cli, "127.0.0.1", port);
    two w = { &srv, &cli, 0 };
    cr_assert(pump_until(srv.t, cli.t, 3000, both_connected, &w));
    cr_expect_null(rec_subject(&cli.r, cli.r.links[0].link), "plain TCP has no peer certificate");
    exchange(&srv, &cli);
    graceful_close(&srv, &cli);
    side_free(&cli);
    side_free(&srv);
}

Test(transport_tcp, tls_connect_exchange_close)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    side_make(&srv, hive__transport_tls_create);
    side_make(&cli, hive__transport_tls_create);
    cr_expect_str_eq(srv.t->vt->scheme, "tls");
    uint16_t port = listen_any(&srv);
    dial(&cli, "localhost", port);
    two w = { &srv, &cli, 0 };
    cr_assert(pump_until(srv.t, cli.t, 3000, both_connected, &w), "client: %s", cli.r.links[0].message);
    cr_expect_str_eq(cli.r.links[0].subject, "CN=localhost,O=Hive Test");
    exchange(&srv, &cli);
    graceful_close(&srv, &cli);
    side_free(&cli);
    side_free(&srv);
}

/* A TLS close_notify that no Hive close preceded is a peer leaving without
 * saying why, as a TCP FIN is: peer_vanished, with the message naming the
 * close_notify (it used to be reported as "normal"). */
Test(transport_tcp, tls_close_notify_alone_is_peer_vanished)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    side_make(&srv, hive__transport_tls_create);
    side_make(&cli, hive__transport_tls_create);
    dial(&cli, "localhost", listen_any(&srv));
    two w = { &srv, &cli, 0 };
    cr_assert(pump_until(srv.t, cli.t, 3000, both_connected, &w), "client: %s", cli.r.links[0].message);
    cli.t->vt->close(cli.t, cli.r.links[0].link, 0);
    uint64_t end = hive_now_ns() + 3000000000u;
    while (hive_now_ns() < end && !both_gone(&w)) {
        srv.t->vt->service(srv.t, 1);
        cli.t->vt->service(cli.t, 1);
    }
    cr_assert(srv.r.links[0].gone);
    cr_expect_eq(srv.r.links[0].reason, HIVE_CLOSE_PEER_VANISHED, "reason %d", srv.r.links[0].reason);
    cr_expect(strstr(srv.r.links[0].message, "close_notify") != NULL, "message: %s", srv.r.links[0].message);
    side_free(&cli);
    side_free(&srv);
}

Test(transport_tcp, mutual_tls_subject_on_server_link)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                          .client_auth = HIVE_TLS_CLIENT_REQUIRE } };
    side cli = { .tls = { .ca_file = C.ca, .cert_file = C.client_crt, .key_file = C.client_key } };
    side_make(&srv, hive__transport_tls_create);
    side_make(&cli, hive__transport_tls_create);
    dial(&cli, "127.0.0.1", listen_any(&srv));
    two w = { &srv, &cli, 0 };
    cr_assert(pump_until(srv.t, cli.t, 3000, both_connected, &w));
    const void *pieces[1] = { "hello" };
    size_t lens[1] = { 5 };
    cli.t->vt->send(cli.t, cli.r.links[0].link, pieces, lens, 1, true);
    w.want = 5;
    cr_assert(pump_until(srv.t, cli.t, 3000, server_has, &w));
    cr_expect_str_eq(srv.r.links[0].subject, "CN=player-one,O=Hive Test");
    side_free(&cli);
    side_free(&srv);
}

static void expect_tls_refusal(side *srv, side *cli, const char *host, const char *cli_reason,
                               const char *srv_reason)
{
    side_make(srv, hive__transport_tls_create);
    side_make(cli, hive__transport_tls_create);
    dial(cli, host, listen_any(srv));
    two w = { srv, cli, 0 };
    cr_assert(pump_until(srv->t, cli->t, 3000, both_gone, &w), "both sides must end");
    cr_expect_eq(cli->r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect(strstr(cli->r.links[0].message, cli_reason) != NULL, "client message: %s",
              cli->r.links[0].message);
    cr_expect_not(cli->r.links[0].connected, "never reported as connected");
    cr_expect(cli->r.links[0].local, "the client's own check refused: a local end");
    cr_expect_eq(srv->r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect_not(srv->r.links[0].local, "the server got the client's alert: not its decision");
    cr_expect(strstr(srv->r.links[0].message, srv_reason) != NULL, "server message: %s",
              srv->r.links[0].message);
    side_free(cli);
    side_free(srv);
}

Test(transport_tcp, tls_unknown_ca)
{
    side srv = { .tls = { .cert_file = C.rogue_crt, .key_file = C.rogue_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    expect_tls_refusal(&srv, &cli, "localhost", "unable to get local issuer certificate", "unknown ca");
}

Test(transport_tcp, tls_hostname_mismatch)
{
    side srv = { .tls = { .cert_file = C.wronghost_crt, .key_file = C.wronghost_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    expect_tls_refusal(&srv, &cli, "localhost", "hostname mismatch", "alert");
}

Test(transport_tcp, tls_expired_certificate)
{
    side srv = { .tls = { .cert_file = C.expired_crt, .key_file = C.expired_key } };
    side cli = { .tls = { .ca_file = C.ca } };
    expect_tls_refusal(&srv, &cli, "localhost", "certificate has expired", "certificate expired");
}

Test(transport_tcp, tls_missing_client_certificate)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                          .client_auth = HIVE_TLS_CLIENT_REQUIRE } };
    side cli = { .tls = { .ca_file = C.ca } };
    side_make(&srv, hive__transport_tls_create);
    side_make(&cli, hive__transport_tls_create);
    dial(&cli, "localhost", listen_any(&srv));
    two w = { &srv, &cli, 0 };
    cr_assert(pump_until(srv.t, cli.t, 3000, both_gone, &w));
    cr_expect_eq(srv.r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect(strstr(srv.r.links[0].message, "peer did not return a certificate") != NULL, "%s",
              srv.r.links[0].message);
    cr_expect(srv.r.links[0].local, "the server refused: a local end");
    cr_expect_not(cli.r.links[0].local, "the client got the server's alert");
    /* TLS 1.3: the client may believe it is connected until the alert. */
    cr_expect_eq(cli.r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect(strstr(cli.r.links[0].message, "certificate required") != NULL, "%s", cli.r.links[0].message);
    side_free(&cli);
    side_free(&srv);
}

Test(transport_tcp, plaintext_client_against_tls_server)
{
    side srv = { .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    side plain = { 0 }, good = { .tls = { .ca_file = C.ca } };
    side_make(&srv, hive__transport_tls_create);
    side_make(&plain, hive__transport_tcp_create);
    side_make(&good, hive__transport_tls_create);
    uint16_t port = listen_any(&srv);
    dial(&plain, "127.0.0.1", port);
    two w = { &srv, &plain, 0 };
    cr_assert(pump_until(srv.t, plain.t, 3000, both_connected, &w));
    /* A plain Hive hello frame. */
    static const uint8_t hello[] = { 0x0f, 0x01, 0x00, 0x81, 0xa5, 'm', 'a', 'g', 'i', 'c',
                                     0xa4, 'H', 'I', 'V', 'E', 0xc0 };
    const void *pieces[1] = { hello };
    size_t lens[1] = { sizeof hello };
    plain.t->vt->send(plain.t, plain.r.links[0].link, pieces, lens, 1, true);
    cr_assert(pump_until(srv.t, plain.t, 3000, both_gone, &w), "both ends close");
    cr_expect_eq(srv.r.links[0].reason, HIVE_CLOSE_TLS_ERROR);
    cr_expect(strstr(srv.r.links[0].message, "error:") != NULL, "OpenSSL text: %s", srv.r.links[0].message);
    cr_expect_eq(srv.r.links[0].len, 0, "no plaintext reached the core");
    /* The server keeps serving. */
    dial(&good, "localhost", port);
    two w2 = { &srv, &good, 0 };
    cr_assert(pump_until(srv.t, good.t, 3000, both_connected, &w2));
    cr_expect_eq(srv.r.n, 2);
    side_free(&good);
    side_free(&plain);
    side_free(&srv);
}

Test(transport_tcp, connect_refused_is_reported)
{
    side srv = { 0 }, cli = { 0 };
    side_make(&srv, hive__transport_tcp_create);
    uint16_t port = listen_any(&srv);
    side_free(&srv);            /* nobody listens there now */
    side_make(&cli, hive__transport_tcp_create);
    dial(&cli, "127.0.0.1", port);
    two w = { &srv, &cli, 0 };
    cr_assert(pump_until(NULL, cli.t, 3000, client_gone, &w));
    cr_expect_eq(cli.r.links[0].reason, HIVE_CLOSE_CONNECT_FAILED);
    cr_expect(strstr(cli.r.links[0].message, "refused") != NULL, "%s", cli.r.links[0].message);
    side_free(&cli);
}

Test(transport_tcp, refused_accept_and_abort_make_no_callbacks)
{
    side srv = { 0 }, cli = { 0 };
    side_make(&srv, hive__transport_tcp_create);
    side_make(&cli, hive__transport_tcp_create);
    srv.r.refuse = HIVE_EFULL;
    dial(&cli, "127.0.0.1", listen_any(&srv));
    two w = { &srv, &cli, 0 };
    cr_assert(pump_until(srv.t, cli.t, 3000, client_gone, &w), "the refused client sees the end");
    cr_expect_eq(srv.r.accepts, 1);
    cr_expect_eq(srv.r.n, 0);
    /* Abort: no callback, ever. */
    srv.r.refuse = 0;
    cli.r.n = 0;
    free(cli.r.links[0].data);
    memset(&cli.r.links[0], 0, sizeof cli.r.links[0]);
    hive__link *l = dial(&cli, "127.0.0.1", srv.t->vt->bound_port(srv.t));
    cr_assert(pump_until(srv.t, cli.t, 3000, both_connected, &w));
    cli.t->vt->abort(cli.t, l);
    cli.r.links[0].link = NULL;
    pump_until(srv.t, cli.t, 200, NULL, NULL);
    cr_expect_not(cli.r.links[0].gone);
    cr_expect(srv.r.links[0].gone, "the server sees the peer vanish");
    cr_expect_eq(srv.r.links[0].reason, HIVE_CLOSE_PEER_VANISHED);
    side_free(&cli);
    side_free(&srv);
}

static int wake_count;
static void *waker(void *arg)
{
    usleep(50000);
    hive__transport *t = arg;
    t->vt->wake(t);
    __atomic_add_fetch(&wake_count, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

Test(transport_tcp, wake_interrupts_service)
{
    side s = { 0 };
    side_make(&s, hive__transport_tcp_create);
    listen_any(&s);
    pthread_t th;
    pthread_create(&th, NULL, waker, s.t);
    uint64_t t0 = hive_now_ns();
    s.t->vt->service(s.t, 5000);
    uint64_t ms = (hive_now_ns() - t0) / 1000000u;
    pthread_join(th, NULL);
    cr_expect_lt(ms, 2000, "service returned after %llu ms", (unsigned long long)ms);
    cr_expect_eq(wake_count, 1);
    side_free(&s);
}
