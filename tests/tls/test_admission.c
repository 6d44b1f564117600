/*
 * Admission over tls:// (hive/net.h ADMISSION). A link is a handshake
 * from its TCP accept on, TLS included: sockets that never send a
 * ClientHello, and sessions that finish TLS but never say hello, both
 * hold handshake slots (never max_connections ones), and a newcomer
 * evicts the oldest. One refused before its TLS handshake finished is
 * just closed; one refused after it gets the reject, encrypted.
 */
#include <openssl/ssl.h>

#include "tests/support/admission.h"
#include "certgen.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(tls_admission, .init = setup, .fini = teardown, .timeout = 120);

#define TA_STORM 2000
#define TA_IDLE_TLS 16

/* A TLS session from src that finishes its TLS handshake (servicing srv
 * meanwhile) and then says nothing. */
typedef struct ta_tls {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
} ta_tls;

static void ta_tls_open(ta_tls *t, hive_server *srv, const char *src)
{
    t->fd = adm_dial(src, hive_server_port(srv));
    t->ctx = SSL_CTX_new(TLS_client_method());
    cr_assert_not_null(t->ctx);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
    t->ssl = SSL_new(t->ctx);
    cr_assert_not_null(t->ssl);
    SSL_set_fd(t->ssl, t->fd);
    SSL_set_connect_state(t->ssl);
    uint64_t end = hive_now_ns() + 20000000000ull;
    int r;
    while ((r = SSL_do_handshake(t->ssl)) != 1 && hive_now_ns() < end) {
        int e = SSL_get_error(t->ssl, r);
        cr_assert(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE, "TLS handshake failed (%d)", e);
        hive_server_service(srv, 1);
    }
    cr_assert_eq(r, 1, "TLS handshake did not finish");
}

/* Service srv and read t until the server ends it (bounded by ms): the
 * reason of the reject it sent, -1 when it ended without one, -2 when
 * still open at the deadline. */
static int ta_tls_reject_reason(hive_server *srv, ta_tls *t, int ms)
{
    uint8_t buf[4096];
    size_t len = 0;
    bool ended = false;
    uint64_t end = hive_now_ns() + (uint64_t)ms * 1000000u;
    while (!ended && len < sizeof buf && hive_now_ns() < end) {
        hive_server_service(srv, 1);
        size_t n = 0;
        if (SSL_read_ex(t->ssl, buf + len, sizeof buf - len, &n) == 1) {
            len += n;
            continue;
        }
        int e = SSL_get_error(t->ssl, 0);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ended = true;
    }
    if (!ended && len == 0) return -2;
    hive__frame f;
    if (len == 0 || hive__frame_decode(buf, len, 1 << 16, &f) != 1 || f.pid != ADM_PID_REJECT) return -1;
    hive_msg_view v;
    if (hive_msg_view_init(&v, f.body, f.body_len) != 0) return -1;
    uint64_t reason = 0;
    int rc = hive_msg_get_uint(v.obj, "reason", &reason);
    hive_msg_view_free(&v);
    return rc == 0 ? (int)reason : -1;
}

static void ta_tls_close(ta_tls *t)
{
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    close(t->fd);
}

static hive_server *ta_server(hive_bus *bus, hive_server_config cfg)
{
    cfg.tls = (hive_tls_config){ .cert_file = C.server_crt, .key_file = C.server_key };
    return adm_server(bus, "tls", &cfg);
}

static hive_net_stats ta_stats(hive_server *srv)
{
    hive_net_stats st;
    cr_assert_eq(hive_server_stats(srv, &st), 0);
    return st;
}

Test(tls_admission, a_client_gets_in_and_plays_while_2000_half_open_links_and_idle_sessions_are_held)
{
    adm_nofile(TA_STORM + 512);
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = ta_server(sbus, (hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes_per_addr = HIVE_MAX_HANDSHAKES });
    static int fds[TA_STORM];
    adm_storm(srv, "127.0.0.2", TA_STORM, fds);           /* TCP up, no ClientHello */
    ta_tls idle[TA_IDLE_TLS];
    for (int i = 0; i < TA_IDLE_TLS; i++) ta_tls_open(&idle[i], srv, "127.0.0.5");   /* TLS up, no hello */

    hive_net_stats st = ta_stats(srv);
    cr_expect_eq(st.handshakes_evicted, TA_STORM + TA_IDLE_TLS - HIVE_DEFAULT_MAX_HANDSHAKES, "evicted %llu",
                 (unsigned long long)st.handshakes_evicted);
    cr_expect_eq(hive_server_connection_count(srv), HIVE_DEFAULT_MAX_HANDSHAKES);
    /* The oldest had not begun TLS: it is just closed. */
    cr_expect_eq(adm_reject_reason(srv, fds[0], 5000), -1);
    for (int i = 0; i < TA_IDLE_TLS; i++) cr_expect(adm_still_open(idle[i].fd), "idle session %d", i);

    hive_tls_config ct = { .ca_file = C.ca };
    adm_good g;
    adm_good_start(&g, srv, "tls", &ct);
    cr_assert(adm_good_open(&g, 20000), "the good client did not get in (state %d, reason %s)",
              hive_client_get_state(g.cli), hive_close_reason_name(hive_client_close_reason(g.cli)));
    cr_expect(adm_roundtrip(&g, 5, 5000), "the good client's round trips");
    st = ta_stats(srv);
    cr_expect_eq(st.handshakes_evicted, TA_STORM + TA_IDLE_TLS - HIVE_DEFAULT_MAX_HANDSHAKES + 1);
    cr_expect_eq(st.busy_rejected, 0);

    adm_good_free(&g);
    for (int i = 0; i < TA_IDLE_TLS; i++) ta_tls_close(&idle[i]);
    for (int i = 0; i < TA_STORM; i++) close(fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

/* An idle session past its TLS handshake, evicted, reads the reject. */
Test(tls_admission, an_evicted_session_past_tls_is_told_busy)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = ta_server(sbus, (hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes = 4, .max_handshakes_per_addr = 4 });
    ta_tls t;
    ta_tls_open(&t, srv, "127.0.0.5");
    int fds[4];
    adm_storm(srv, "127.0.0.2", 4, fds);   /* the fourth makes room by evicting the session */
    cr_expect_eq(ta_tls_reject_reason(srv, &t, 5000), HIVE_CLOSE_BUSY);
    cr_expect_eq(ta_stats(srv).handshakes_evicted, 1);
    for (int i = 0; i < 4; i++) cr_expect(adm_still_open(fds[i]), "link %d", i);
    ta_tls_close(&t);
    for (int i = 0; i < 4; i++) close(fds[i]);
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}

/* Over the per-address limit a tls:// link is refused at once, before
 * any TLS work: the server just closes it, and the client ends promptly
 * (tls_error: no reject can travel before TLS). Another address gets in. */
Test(tls_admission, the_per_address_limit_closes_the_next_link_before_tls)
{
    hive_bus *sbus = hive_bus_create(NULL);
    hive_server *srv = ta_server(sbus, (hive_server_config){
        .handshake_timeout_ms = 60000, .max_handshakes = 4, .max_handshakes_per_addr = 2 });
    int fds[2];
    adm_storm(srv, "127.0.0.1", 2, fds);
    hive_tls_config ct = { .ca_file = C.ca };
    adm_good g;
    adm_good_start(&g, srv, "tls", &ct);
    cr_assert(adm_good_closed(&g, 10000), "the client was not turned away");
    cr_expect_eq(hive_client_close_reason(g.cli), HIVE_CLOSE_TLS_ERROR, "close reason %s",
                 hive_close_reason_name(hive_client_close_reason(g.cli)));
    cr_expect_eq(ta_stats(srv).busy_rejected, 1);
    adm_good_free(&g);

    int other[2];
    adm_storm(srv, "127.0.0.6", 2, other);
    for (int i = 0; i < 2; i++) cr_expect(adm_still_open(other[i]), "another address's link %d", i);
    cr_expect_eq(ta_stats(srv).busy_rejected, 1);
    for (int i = 0; i < 2; i++) {
        close(fds[i]);
        close(other[i]);
    }
    hive_server_destroy(srv);
    hive_bus_destroy(sbus);
}
