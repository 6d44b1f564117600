/*
 * Whole sessions through hive_server/hive_client on tls:// and enet+tls://:
 * the same events as on the plain transports, peer_subject in
 * handshakecomplete, and every refusal as a `tls_error` close carrying
 * OpenSSL's text.
 */
#include <criterion/criterion.h>
#include "certgen.h"
#include "e2e.h"
#include <stdlib.h>

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(e2e, .init = setup, .fini = teardown, .timeout = 30);

static bool got_chat(e2e *x) { return log_count(&x->clog, "net:client.recv") >= 1; }
static bool client_stopped(e2e *x) { return log_count(&x->clog, HIVE_EV_CLIENT_STOP) >= 1; }
static bool srv_got_two(e2e *x) { return log_count(&x->slog, "net:server.connection.recv") >= 2; }

/* One session: connect, chat both ways, one unreliable pos, client closes. */
static void session(e2e *x, const char *scheme, const hive_tls_config *st, const hive_tls_config *ct)
{
    e2e_server(x, scheme, st);
    e2e_client(x, scheme, "localhost", ct);
    cr_assert(e2e_pump(x, 5000, e2e_open), "%s: client open", scheme);
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_str(&m, "text", "hi");
    cr_assert_eq(hive_client_send_msg(x->cli, "game:chat", &m), HIVE_OK);
    hive_msg_free(&m);
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_str(&m, "text", "pos");
    cr_assert_eq(hive_client_send_msg(x->cli, "game:pos", &m), HIVE_OK);
    hive_msg_free(&m);
    hive_client_flush(x->cli);
    cr_assert(e2e_pump(x, 3000, srv_got_two), "%s: server got both", scheme);
    /* The secure-ENet counters reach the public stats; plain ones stay 0. */
    hive_net_stats ns;
    cr_assert_eq(hive_server_stats(x->srv, &ns), HIVE_OK);
    if (strcmp(scheme, "enet+tls") == 0)
        cr_expect_geq(ns.sealed_opened, 1, "%s: the unreliable pos was opened", scheme);
    else
        cr_expect_eq(ns.sealed_opened, 0, "%s", scheme);
    cr_expect_eq(ns.sealed_rejected, 0, "%s", scheme);
    cr_expect_eq(ns.sealed_replayed, 0, "%s", scheme);
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_str(&m, "text", "hello back");
    cr_assert_eq(hive_server_send_msg(x->srv, hive_client_cid(x->cli), "game:chat", &m), HIVE_OK);
    hive_msg_free(&m);
    cr_assert(e2e_pump(x, 3000, got_chat));
    cr_assert_eq(hive_client_close(x->cli, HIVE_CLOSE_NORMAL, "bye"), HIVE_OK);
    cr_assert(e2e_pump(x, 3000, e2e_both_closed), "%s: both sides close", scheme);
    cr_assert(e2e_pump(x, 3000, client_stopped), "%s: client stops", scheme);
}

/* Names and field keys of every event, with peer_subject set aside. */
static void expect_same_events(const evlog *plain, const evlog *secure, const char *who)
{
    bool same = plain->n == secure->n;
    for (int i = 0; same && i < plain->n; i++) {
        const log_event *a = &plain->ev[i], *b = &secure->ev[i];
        char keys[160];
        snprintf(keys, sizeof keys, "%s", b->keys);
        char *ps = strstr(keys, ",peer_subject");
        if (ps) *ps = '\0';
        same = strcmp(a->name, b->name) == 0 && strcmp(a->keys, keys) == 0
               && strcmp(a->reason_name, b->reason_name) == 0 && strcmp(a->text, b->text) == 0;
    }
    if (!same) {
        fprintf(stderr, "%s plain:\n", who);
        log_dump(plain, "plain");
        fprintf(stderr, "%s secure:\n", who);
        log_dump(secure, "secure");
    }
    cr_expect(same, "%s: secure events differ from plain ones (see stderr)", who);
}

static void compare(const char *plain_scheme, const char *secure_scheme)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                           .client_auth = HIVE_TLS_CLIENT_REQUIRE };
    hive_tls_config ct = { .ca_file = C.ca, .cert_file = C.client_crt, .key_file = C.client_key };
    e2e p, s;
    memset(&p, 0, sizeof p);
    memset(&s, 0, sizeof s);
    session(&p, plain_scheme, NULL, NULL);
    session(&s, secure_scheme, &st, &ct);
    expect_same_events(&p.slog, &s.slog, "server");
    expect_same_events(&p.clog, &s.clog, "client");
    const log_event *h = log_find(&s.slog, HIVE_EV_SERVER_HANDSHAKE);
    cr_assert_not_null(h);
    cr_expect(h->has_subject);
    cr_expect_str_eq(h->peer_subject, "CN=player-one,O=Hive Test");
    h = log_find(&s.clog, HIVE_EV_CLIENT_HANDSHAKE);
    cr_assert_not_null(h);
    cr_expect_str_eq(h->peer_subject, "CN=localhost,O=Hive Test");
    cr_expect_not(log_find(&p.slog, HIVE_EV_SERVER_HANDSHAKE)->has_subject, "plain: no subject");
    const log_event *a = log_find(&s.slog, HIVE_EV_SERVER_ACCEPT);
    cr_assert_not_null(a);
    e2e_free(&p);
    e2e_free(&s);
}

Test(e2e, tls_session_has_the_events_of_tcp) { compare("tcp", "tls"); }
Test(e2e, enet_tls_session_has_the_events_of_enet) { compare("enet", "enet+tls"); }

/* A refused TLS handshake: both sides close with tls_error and OpenSSL's
 * text. `refuser` is the side whose check failed ('c' client, 's' server):
 * it reports remote = 0, the side that got its alert remote = 1. */
static void refused(const char *scheme, const hive_tls_config *st, const hive_tls_config *ct,
                    const char *host, const char *cli_text, const char *srv_text, char refuser)
{
    e2e x;
    memset(&x, 0, sizeof x);
    e2e_server(&x, scheme, st);
    e2e_client(&x, scheme, host, ct);
    cr_assert(e2e_pump(&x, 5000, e2e_both_closed), "%s: both close", scheme);
    const log_event *c = log_find(&x.clog, HIVE_EV_CLIENT_CLOSE);
    cr_expect_str_eq(c->reason_name, "tls_error", "client reason %s (%s)", c->reason_name, c->message);
    cr_expect(strstr(c->message, cli_text) != NULL, "client message: %s", c->message);
    const log_event *s = log_find(&x.slog, HIVE_EV_SERVER_CLOSE);
    cr_expect_str_eq(s->reason_name, "tls_error", "server reason %s", s->reason_name);
    cr_expect(strstr(s->message, srv_text) != NULL, "server message: %s", s->message);
    cr_expect_eq(c->remote, refuser == 's', "%s: client close remote=%d", scheme, c->remote);
    cr_expect_eq(s->remote, refuser == 'c', "%s: server close remote=%d", scheme, s->remote);
    cr_expect_eq(log_count(&x.slog, HIVE_EV_SERVER_HANDSHAKE), 0);
    cr_expect_eq(log_count(&x.slog, "net:server.connection.recv"), 0);
    e2e_free(&x);
}

static void unknown_ca(const char *scheme)
{
    hive_tls_config st = { .cert_file = C.rogue_crt, .key_file = C.rogue_key };
    hive_tls_config ct = { .ca_file = C.ca };
    refused(scheme, &st, &ct, "localhost", "unable to get local issuer certificate", "unknown ca", 'c');
}
Test(e2e, tls_unknown_ca) { unknown_ca("tls"); }
Test(e2e, enet_tls_unknown_ca) { unknown_ca("enet+tls"); }

static void hostname_mismatch(const char *scheme)
{
    hive_tls_config st = { .cert_file = C.wronghost_crt, .key_file = C.wronghost_key };
    hive_tls_config ct = { .ca_file = C.ca };
    refused(scheme, &st, &ct, "localhost", "hostname mismatch", "alert", 'c');
}
Test(e2e, tls_hostname_mismatch) { hostname_mismatch("tls"); }
Test(e2e, enet_tls_hostname_mismatch) { hostname_mismatch("enet+tls"); }

static void expired(const char *scheme)
{
    hive_tls_config st = { .cert_file = C.expired_crt, .key_file = C.expired_key };
    hive_tls_config ct = { .ca_file = C.ca };
    refused(scheme, &st, &ct, "127.0.0.1", "certificate has expired", "certificate expired", 'c');
}
Test(e2e, tls_expired_certificate) { expired("tls"); }
Test(e2e, enet_tls_expired_certificate) { expired("enet+tls"); }

static void missing_client_cert(const char *scheme)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                           .client_auth = HIVE_TLS_CLIENT_REQUIRE };
    hive_tls_config ct = { .ca_file = C.ca };
    refused(scheme, &st, &ct, "localhost", "certificate required", "peer did not return a certificate", 's');
}
Test(e2e, tls_missing_client_certificate) { missing_client_cert("tls"); }
Test(e2e, enet_tls_missing_client_certificate) { missing_client_cert("enet+tls"); }

static bool second_open(e2e *x)
{
    return hive_client_get_state(x->cli) == HIVE_CLIENT_OPEN
        && log_count(&x->slog, HIVE_EV_SERVER_HANDSHAKE) >= 1;
}

static void plaintext_client(const char *secure, const char *plain)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key };
    hive_tls_config ct = { .ca_file = C.ca };
    e2e x;
    memset(&x, 0, sizeof x);
    e2e_server(&x, secure, &st);
    e2e_client(&x, plain, "127.0.0.1", NULL);
    cr_assert(e2e_pump(&x, 5000, e2e_both_closed), "the plain client is closed");
    const log_event *s = log_find(&x.slog, HIVE_EV_SERVER_CLOSE);
    cr_expect_str_eq(s->reason_name, "tls_error");
    cr_expect(strstr(s->message, "error:") != NULL, "OpenSSL's text: %s", s->message);
    cr_expect_eq(log_count(&x.slog, HIVE_EV_SERVER_HANDSHAKE), 0);
    cr_expect_neq(hive_client_get_state(x.cli), HIVE_CLIENT_OPEN);
    /* The server keeps serving: a TLS client gets in. */
    hive_client_destroy(x.cli);
    hive_bus_destroy(x.cbus);
    x.cli = NULL;
    x.cbus = NULL;
    e2e_client(&x, secure, "localhost", &ct);
    cr_assert(e2e_pump(&x, 5000, second_open), "a TLS client still connects");
    cr_expect_eq(log_count(&x.slog, HIVE_EV_SERVER_HANDSHAKE), 1);
    e2e_free(&x);
}
Test(e2e, plaintext_client_against_tls_server) { plaintext_client("tls", "tcp"); }
Test(e2e, plain_enet_client_against_enet_tls_server) { plaintext_client("enet+tls", "enet"); }

Test(e2e, bad_certificate_file_fails_start)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_server_config c = { .addr = "tls://127.0.0.1:0",
                             .tls = { .cert_file = "/nonexistent/cert.pem", .key_file = C.server_key } };
    hive_server *s = hive_server_create(&c, bus);
    cr_assert_not_null(s);
    cr_expect_eq(hive_server_start(s), HIVE_ETLS);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

Test(e2e, tls_paths_are_copied_at_create)
{
    /* The config's strings may be freed right after create. */
    char *crt = strdup(C.server_crt), *key = strdup(C.server_key), *ca = strdup(C.ca);
    hive_tls_config st = { .cert_file = crt, .key_file = key };
    hive_tls_config ct = { .ca_file = ca, .server_name = "localhost" };
    e2e x;
    memset(&x, 0, sizeof x);
    x.sbus = hive_bus_create(NULL);
    log_attach(&x.slog, x.sbus);
    hive_server_config sc = { .addr = "tls://127.0.0.1:0", .tls = st };
    x.srv = hive_server_create(&sc, x.sbus);
    cr_assert_not_null(x.srv);
    x.cbus = hive_bus_create(NULL);
    log_attach(&x.clog, x.cbus);
    hive_client_config cc = { .tls = ct };
    x.cli = hive_client_create(&cc, x.cbus);
    cr_assert_not_null(x.cli);
    memset(crt, 'x', strlen(crt));
    memset(key, 'x', strlen(key));
    memset(ca, 'x', strlen(ca));
    free(crt);
    free(key);
    free(ca);
    cr_assert_eq(hive_server_start(x.srv), HIVE_OK);
    snprintf(x.addr, sizeof x.addr, "tls://127.0.0.1:%u", (unsigned)hive_server_port(x.srv));
    cr_assert_eq(hive_client_connect(x.cli, x.addr), HIVE_OK);
    cr_assert(e2e_pump(&x, 5000, e2e_open));
    cr_expect_str_eq(log_find(&x.clog, HIVE_EV_CLIENT_HANDSHAKE)->peer_subject, "CN=localhost,O=Hive Test");
    e2e_free(&x);
}

/* ------------------------------------------------------------------ */
/* wss:// - WebSocket inside TLS                                        */

Test(e2e, wss_session_has_the_events_of_ws) { compare("ws", "wss"); }

/* A wss:// link reaches the server's events only once TLS and the
 * WebSocket upgrade are done: a refused TLS handshake ends with tls_error
 * on the client and leaves no trace on the server but its counters. */
static bool client_closed_only(e2e *x) { return e2e_client_closed(x); }

static void wss_refused(const hive_tls_config *st, const hive_tls_config *ct, const char *cli_text)
{
    e2e x;
    memset(&x, 0, sizeof x);
    e2e_server(&x, "wss", st);
    e2e_client(&x, "wss", "localhost", ct);
    cr_assert(e2e_pump(&x, 5000, client_closed_only), "the client closes");
    const log_event *c = log_find(&x.clog, HIVE_EV_CLIENT_CLOSE);
    cr_expect_str_eq(c->reason_name, "tls_error", "client reason %s (%s)", c->reason_name, c->message);
    cr_expect(strstr(c->message, cli_text) != NULL, "client message: %s", c->message);
    e2e_pump(&x, 300, NULL);
    cr_expect_eq(log_count(&x.slog, HIVE_EV_SERVER_ACCEPT), 0);
    cr_expect_eq(log_count(&x.slog, HIVE_EV_SERVER_CLOSE), 0);
    e2e_free(&x);
}

Test(e2e, wss_unknown_ca)
{
    hive_tls_config st = { .cert_file = C.rogue_crt, .key_file = C.rogue_key };
    hive_tls_config ct = { .ca_file = C.ca };
    wss_refused(&st, &ct, "unable to get local issuer certificate");
}

Test(e2e, wss_missing_client_certificate)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                           .client_auth = HIVE_TLS_CLIENT_REQUIRE };
    hive_tls_config ct = { .ca_file = C.ca };
    wss_refused(&st, &ct, "certificate required");
}

/* A plaintext ws:// client at a wss:// server gets nowhere and the
 * server keeps serving wss:// clients. */
Test(e2e, ws_client_against_wss_server)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key };
    hive_tls_config ct = { .ca_file = C.ca };
    e2e x;
    memset(&x, 0, sizeof x);
    e2e_server(&x, "wss", &st);
    e2e_client(&x, "ws", "127.0.0.1", NULL);
    cr_assert(e2e_pump(&x, 8000, client_closed_only), "the plain client is closed");
    cr_expect_neq(hive_client_get_state(x.cli), HIVE_CLIENT_OPEN);
    cr_expect_eq(log_count(&x.slog, HIVE_EV_SERVER_ACCEPT), 0);
    hive_client_destroy(x.cli);
    hive_bus_destroy(x.cbus);
    x.cli = NULL;
    x.cbus = NULL;
    memset(&x.clog, 0, sizeof x.clog);
    e2e_client(&x, "wss", "localhost", &ct);
    cr_assert(e2e_pump(&x, 5000, second_open), "a wss client still connects");
    e2e_free(&x);
}

/* A target server refuses to adopt a session that came with a client
 * certificate unless it asks for one too: the session could never resume
 * there (a resume must show the same certificate), and refusing at once
 * lets the source keep the player (HANDOFF). */
static bool client_open_e2e(e2e *x) { return hive_client_get_state(x->cli) == HIVE_CLIENT_OPEN; }

static hive_server *target(hive_bus *bus, const char *scheme, const hive_tls_config *tls)
{
    char a[64];
    snprintf(a, sizeof a, "%s://127.0.0.1:0", scheme);
    hive_server_config c = { .addr = a };
    if (tls) c.tls = *tls;
    hive_server *s = hive_server_create(&c, bus);
    cr_assert_not_null(s);
    cr_assert_gt(hive_server_register(s, "game:chat", 0, HIVE_RELIABLE), 0);
    cr_assert_gt(hive_server_register(s, "game:pos", 0, HIVE_UNRELIABLE), 0);
    cr_assert_eq(hive_server_start(s), HIVE_OK);
    return s;
}

Test(e2e, a_session_with_a_certificate_moves_only_where_one_is_asked_for)
{
    hive_tls_config st = { .cert_file = C.server_crt, .key_file = C.server_key, .ca_file = C.ca,
                           .client_auth = HIVE_TLS_CLIENT_REQUIRE };
    hive_tls_config ct = { .ca_file = C.ca, .cert_file = C.client_crt, .key_file = C.client_key };
    e2e x;
    memset(&x, 0, sizeof x);
    e2e_server(&x, "tls", &st);
    x.cbus = hive_bus_create(NULL);
    log_attach(&x.clog, x.cbus);
    x.cli = hive_client_create(&(hive_client_config){ .tls = ct, .reconnect_attempts = 3 }, x.cbus);
    cr_assert_not_null(x.cli);
    snprintf(x.addr, sizeof x.addr, "tls://localhost:%u", (unsigned)hive_server_port(x.srv));
    cr_assert_eq(hive_client_connect(x.cli, x.addr), HIVE_OK);
    cr_assert(e2e_pump(&x, 5000, client_open_e2e), "no mutual-TLS session");
    for (int i = 0; i < 50; i++) hive_server_service(x.srv, 1);

    hive_msg t;
    hive_msg_init(&t);
    cr_assert_eq(hive_server_handoff_begin(x.srv, hive_client_cid(x.cli), NULL, 0, &t), HIVE_OK);
    hive_bus *b1 = hive_bus_create(NULL), *b2 = hive_bus_create(NULL);
    hive_server *plain = target(b1, "tcp", NULL);
    hive_tls_config none = st;
    none.client_auth = HIVE_TLS_CLIENT_NONE;
    hive_server *asks_none = target(b2, "tls", &none);
    hive_cid cid = 0;
    uint8_t tok[HIVE_HANDOFF_TOKEN_BYTES];
    cr_expect_eq(hive_server_adopt(plain, hive_msg_data(&t), hive_msg_size(&t), &cid, tok), HIVE_ESTATE);
    cr_expect_eq(hive_server_adopt(asks_none, hive_msg_data(&t), hive_msg_size(&t), &cid, tok), HIVE_ESTATE);
    hive_server_destroy(plain);
    hive_server_destroy(asks_none);
    hive_bus *b3 = hive_bus_create(NULL);
    hive_server *asks = target(b3, "tls", &st);
    cr_expect_eq(hive_server_adopt(asks, hive_msg_data(&t), hive_msg_size(&t), &cid, tok), HIVE_OK);
    hive_msg_free(&t);
    cr_expect_eq(hive_server_handoff_cancel(x.srv, hive_client_cid(x.cli)), HIVE_OK);
    hive_server_destroy(asks);
    hive_bus_destroy(b1);
    hive_bus_destroy(b2);
    hive_bus_destroy(b3);
    e2e_free(&x);
}
