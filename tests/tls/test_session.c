/* TLS sessions over in-memory buffers: handshake, data, and every refusal. */
#include <criterion/criterion.h>
#include <string.h>
#include <openssl/ssl.h>
#include "net/transport/tls.h"
#include "certgen.h"
#include "mempair.h"

static certgen C;

static void setup(void) { cr_assert(certgen_make(&C), "test certificates"); }
static void teardown(void) { certgen_remove(&C); }

TestSuite(tls_session, .init = setup, .fini = teardown, .timeout = 20);

static hive__tls_ctx *server_ctx(const char *crt, const char *key, hive_tls_client_auth auth)
{
    char err[HIVE__TLS_ERR_MAX];
    hive_tls_config cfg = { .cert_file = crt, .key_file = key, .ca_file = C.ca, .client_auth = auth };
    hive__tls_ctx *c = hive__tls_ctx_create(&cfg, true, err, sizeof err);
    cr_assert_not_null(c, "server ctx: %s", err);
    return c;
}

static hive__tls_ctx *client_ctx(const hive_tls_config *cfg)
{
    char err[HIVE__TLS_ERR_MAX];
    hive__tls_ctx *c = hive__tls_ctx_create(cfg, false, err, sizeof err);
    cr_assert_not_null(c, "client ctx: %s", err);
    return c;
}

Test(tls_session, handshake_and_data_both_ways)
{
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_NONE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
    cr_assert(s && c);
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_assert_eq(cr, 1, "client: %s", hive__tls_error(c));
    cr_assert_eq(sr, 1, "server: %s", hive__tls_error(s));
    cr_expect_str_eq(hive__tls_version(c), "TLSv1.3");
    cr_expect_null(hive__tls_peer_subject(s), "no client certificate was asked for");
    cr_expect_not_null(hive__tls_peer_subject(c));
    cr_expect(strstr(hive__tls_peer_subject(c), "CN=localhost") != NULL);

    /* 100 KiB one way: several records, written once, read back whole. */
    static uint8_t big[100 * 1024], got[sizeof big];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    cr_assert_eq(hive__tls_write(c, big, sizeof big), 0);
    size_t pending = hive__tls_out_pending(c);
    cr_expect_gt(pending, sizeof big, "ciphertext waits in the output");
    mempair_move(c, s);
    cr_expect_eq(hive__tls_out_pending(c), 0, "a successful write is not queued again");
    size_t have = 0;
    int r;
    while ((r = hive__tls_read(s, got + have, sizeof got - have)) > 0) have += (size_t)r;
    cr_expect_eq(r, 0);
    cr_assert_eq(have, sizeof big);
    cr_expect_eq(memcmp(big, got, sizeof big), 0);

    cr_assert_eq(hive__tls_write(s, "pong", 4), 0);
    mempair_move(s, c);
    char buf[16];
    cr_assert_eq(hive__tls_read(c, buf, sizeof buf), 4);
    cr_expect_eq(memcmp(buf, "pong", 4), 0);
    cr_expect_eq(hive__tls_read(c, buf, sizeof buf), 0, "nothing more: want-read, not an error");

    /* Orderly close. */
    cr_assert_eq(hive__tls_shutdown(c), 0);
    mempair_move(c, s);
    cr_expect_eq(hive__tls_read(s, buf, sizeof buf), HIVE_ECLOSED);

    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, write_before_handshake_is_a_state_error)
{
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca });
    hive__tls *c = hive__tls_create(cc, "localhost");
    cr_expect_eq(hive__tls_write(c, "x", 1), HIVE_ESTATE);
    cr_expect_eq(hive__tls_handshake(c), 0);
    cr_expect_gt(hive__tls_out_pending(c), 0, "ClientHello is waiting");
    hive__tls_destroy(c);
    hive__tls_ctx_destroy(cc);
}

static void expect_client_refused(const char *crt, const char *key, const char *host,
                                  const char *reason)
{
    hive__tls_ctx *sc = server_ctx(crt, key, HIVE_TLS_CLIENT_NONE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, host);
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(cr, HIVE_ETLS);
    cr_expect(strstr(hive__tls_error(c), "certificate verify failed") != NULL, "%s", hive__tls_error(c));
    cr_expect(strstr(hive__tls_error(c), reason) != NULL, "wanted '%s' in '%s'", reason,
              hive__tls_error(c));
    cr_expect_eq(sr, HIVE_ETLS, "the server hears the client's alert");
    cr_expect(strstr(hive__tls_error(s), "alert") != NULL, "%s", hive__tls_error(s));
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, unknown_ca_is_rejected)
{
    expect_client_refused(C.rogue_crt, C.rogue_key, "localhost", "unable to get local issuer certificate");
}

Test(tls_session, hostname_mismatch_is_rejected)
{
    expect_client_refused(C.wronghost_crt, C.wronghost_key, "localhost", "hostname mismatch");
}

Test(tls_session, ip_address_mismatch_is_rejected)
{
    expect_client_refused(C.server_crt, C.server_key, "10.9.8.7", "IP address mismatch");
}

Test(tls_session, expired_certificate_is_rejected)
{
    expect_client_refused(C.expired_crt, C.expired_key, "localhost", "certificate has expired");
}

Test(tls_session, ip_literal_in_san_is_accepted)
{
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_NONE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "127.0.0.1");
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(cr, 1, "%s", hive__tls_error(c));
    cr_expect_eq(sr, 1, "%s", hive__tls_error(s));
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, skip_hostname_accepts_other_names)
{
    hive__tls_ctx *sc = server_ctx(C.wronghost_crt, C.wronghost_key, HIVE_TLS_CLIENT_NONE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca, .insecure_skip_hostname = true });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(cr, 1, "%s", hive__tls_error(c));
    cr_expect_eq(sr, 1);
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, server_name_overrides_address_host)
{
    hive__tls_ctx *sc = server_ctx(C.wronghost_crt, C.wronghost_key, HIVE_TLS_CLIENT_NONE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca, .server_name = "game.example.org" });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "127.0.0.1");
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(cr, 1, "%s", hive__tls_error(c));
    cr_expect_eq(sr, 1);
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, mutual_tls_gives_the_peer_subject)
{
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_REQUIRE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca, .cert_file = C.client_crt,
                                                         .key_file = C.client_key });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_assert_eq(cr, 1, "%s", hive__tls_error(c));
    cr_assert_eq(sr, 1, "%s", hive__tls_error(s));
    cr_assert_not_null(hive__tls_peer_subject(s));
    cr_expect_str_eq(hive__tls_peer_subject(s), "CN=player-one,O=Hive Test");
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, required_client_certificate_missing_is_rejected)
{
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_REQUIRE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(sr, HIVE_ETLS);
    cr_expect(strstr(hive__tls_error(s), "peer did not return a certificate") != NULL,
              "%s", hive__tls_error(s));
    /* In TLS 1.3 the client finishes first and learns of the refusal from
     * the server's alert on its next read. */
    char buf[8];
    int r = cr == 1 ? hive__tls_read(c, buf, sizeof buf) : cr;
    cr_expect_eq(r, HIVE_ETLS);
    cr_expect(strstr(hive__tls_error(c), "certificate required") != NULL, "%s", hive__tls_error(c));
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, client_certificate_from_unknown_ca_is_rejected)
{
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_OPTIONAL);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca, .cert_file = C.rogue_crt,
                                                         .key_file = C.rogue_key });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(sr, HIVE_ETLS);
    cr_expect(strstr(hive__tls_error(s), "certificate verify failed") != NULL, "%s", hive__tls_error(s));
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, plaintext_bytes_fail_the_server_handshake)
{
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_NONE);
    hive__tls *s = hive__tls_create(sc, NULL);
    /* What a plain Hive client sends first: a frame with a msgpack map. */
    static const uint8_t hello[] = { 0x10, 0x01, 0x00, 0x81, 0xa5, 'm', 'a', 'g', 'i', 'c',
                                     0xa4, 'H', 'I', 'V', 'E', 0, 0, 0, 0, 0 };
    cr_assert_eq(hive__tls_feed(s, hello, sizeof hello), 0);
    cr_expect_eq(hive__tls_handshake(s), HIVE_ETLS);
    cr_expect_neq(hive__tls_error(s)[0], '\0');
    cr_expect(strstr(hive__tls_error(s), "error:") != NULL, "OpenSSL's text: %s", hive__tls_error(s));
    cr_expect_eq(hive__tls_handshake(s), HIVE_ETLS, "stays failed");
    hive__tls_destroy(s);
    hive__tls_ctx_destroy(sc);
}

Test(tls_session, tls12_only_when_allowed)
{
    /* A client capped at 1.2 against a default (1.3-only) server fails ... */
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_NONE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca, .min_version = HIVE_TLS_1_2 });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
    /* Cap the client at 1.2 through OpenSSL directly: Hive has no max knob. */
    SSL_set_max_proto_version((SSL *)hive__tls_native(c), TLS1_2_VERSION);
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(sr, HIVE_ETLS);
    cr_expect(strstr(hive__tls_error(s), "protocol") != NULL, "%s", hive__tls_error(s));
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(sc);

    /* ... and succeeds against a server that allows 1.2. */
    char err[HIVE__TLS_ERR_MAX];
    sc = hive__tls_ctx_create(&(hive_tls_config){ .cert_file = C.server_crt, .key_file = C.server_key,
                                                 .min_version = HIVE_TLS_1_2 }, true, err, sizeof err);
    cr_assert_not_null(sc, "%s", err);
    s = hive__tls_create(sc, NULL);
    c = hive__tls_create(cc, "localhost");
    SSL_set_max_proto_version((SSL *)hive__tls_native(c), TLS1_2_VERSION);
    mempair_handshake(c, s, &cr, &sr);
    cr_expect_eq(cr, 1, "%s", hive__tls_error(c));
    cr_expect_eq(sr, 1, "%s", hive__tls_error(s));
    cr_expect_str_eq(hive__tls_version(s), "TLSv1.2");
    uint8_t a[44], b[44];
    cr_expect_eq(hive__tls_export(c, "EXPORTER-test", a, sizeof a), 0);
    cr_expect_eq(hive__tls_export(s, "EXPORTER-test", b, sizeof b), 0);
    cr_expect_eq(memcmp(a, b, sizeof a), 0);
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, exported_keys_match_and_differ_by_label)
{
    hive__tls_ctx *sc = server_ctx(C.server_crt, C.server_key, HIVE_TLS_CLIENT_NONE);
    hive__tls_ctx *cc = client_ctx(&(hive_tls_config){ .ca_file = C.ca });
    hive__tls *s = hive__tls_create(sc, NULL), *c = hive__tls_create(cc, "localhost");
    int cr, sr;
    mempair_handshake(c, s, &cr, &sr);
    cr_assert(cr == 1 && sr == 1);
    uint8_t a[44], b[44], d[44];
    cr_assert_eq(hive__tls_export(c, "EXPORTER-hive-enet-c2s", a, sizeof a), 0);
    cr_assert_eq(hive__tls_export(s, "EXPORTER-hive-enet-c2s", b, sizeof b), 0);
    cr_assert_eq(hive__tls_export(s, "EXPORTER-hive-enet-s2c", d, sizeof d), 0);
    cr_expect_eq(memcmp(a, b, sizeof a), 0);
    cr_expect_neq(memcmp(a, d, sizeof a), 0);
    hive__tls_destroy(c); hive__tls_destroy(s);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
}

Test(tls_session, config_errors_carry_the_file_and_reason)
{
    char err[HIVE__TLS_ERR_MAX];
    hive__tls_ctx *c = hive__tls_ctx_create(&(hive_tls_config){ .cert_file = "/nonexistent/x.pem" },
                                            true, err, sizeof err);
    cr_expect_null(c);
    cr_expect(strstr(err, "/nonexistent/x.pem") != NULL, "%s", err);
    c = hive__tls_ctx_create(&(hive_tls_config){ 0 }, true, err, sizeof err);
    cr_expect_null(c, "a server without a certificate");
    cr_expect(strstr(err, "cert_file") != NULL, "%s", err);
    c = hive__tls_ctx_create(&(hive_tls_config){ .cert_file = C.server_crt, .key_file = C.client_key },
                             true, err, sizeof err);
    cr_expect_null(c, "key of another certificate");
    cr_expect(strstr(err, "mismatch") != NULL || strstr(err, "does not match") != NULL, "%s", err);
    c = hive__tls_ctx_create(&(hive_tls_config){ .cert_file = C.server_crt, .key_file = C.server_key,
                                                .client_auth = HIVE_TLS_CLIENT_REQUIRE }, true, err, sizeof err);
    cr_expect_null(c, "client_auth without a CA");
    cr_expect(strstr(err, "ca_file") != NULL, "%s", err);
}
