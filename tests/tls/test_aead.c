/* Sealed datagrams: round trip, tampering, replay window. */
#include <criterion/criterion.h>
#include <string.h>
#include "net/transport/aead.h"
#include "net/transport/tls.h"
#include "certgen.h"
#include "mempair.h"

TestSuite(aead, .timeout = 10);

static void keys(uint8_t a[44], uint8_t b[44])
{
    for (int i = 0; i < 44; i++) { a[i] = (uint8_t)(i + 1); b[i] = (uint8_t)(200 - i); }
}

/* tx of one side is rx of the other. */
static void pair(hive__aead *cli, hive__aead *srv, hive__aead_alg alg)
{
    uint8_t c2s[44], s2c[44];
    keys(c2s, s2c);
    cr_assert_eq(hive__aead_init(cli, alg, c2s, s2c), 0);
    cr_assert_eq(hive__aead_init(srv, alg, s2c, c2s), 0);
}

static void roundtrip(hive__aead_alg alg)
{
    hive__aead c, s;
    pair(&c, &s, alg);
    uint8_t dg[128], pt[128];
    const char *msg = "position x=12 y=40";
    size_t n = strlen(msg);
    int k = hive__aead_seal(&c, (const uint8_t *)msg, n, dg, sizeof dg);
    cr_assert_eq(k, (int)(n + HIVE__AEAD_OVERHEAD));
    cr_expect_eq(dg[0], HIVE__AEAD_VERSION);
    cr_expect_eq(memmem(dg, (size_t)k, "position", 8), NULL, "no plaintext on the wire");
    cr_assert_eq(hive__aead_open(&s, dg, (size_t)k, pt, sizeof pt), (int)n);
    cr_expect_eq(memcmp(pt, msg, n), 0);
    /* Empty payloads authenticate too. */
    k = hive__aead_seal(&s, NULL, 0, dg, sizeof dg);
    cr_assert_eq(k, HIVE__AEAD_OVERHEAD);
    cr_expect_eq(hive__aead_open(&c, dg, (size_t)k, pt, sizeof pt), 0);
    /* A side cannot open its own datagrams: the directions have distinct keys. */
    k = hive__aead_seal(&c, (const uint8_t *)msg, n, dg, sizeof dg);
    cr_expect_eq(hive__aead_open(&c, dg, (size_t)k, pt, sizeof pt), HIVE_EPROTO);
    cr_expect_eq(c.stats.auth_failed, 1);
    hive__aead_free(&c);
    hive__aead_free(&s);
}

Test(aead, aes256gcm_round_trip) { roundtrip(HIVE__AEAD_AES256GCM); }
Test(aead, chacha20poly1305_round_trip) { roundtrip(HIVE__AEAD_CHACHA20POLY1305); }

Test(aead, every_bit_flip_is_dropped_and_counted)
{
    hive__aead c, s;
    pair(&c, &s, HIVE__AEAD_AES256GCM);
    uint8_t pt[64], dg[64 + HIVE__AEAD_OVERHEAD], bad[sizeof dg], out[64];
    for (int i = 0; i < 64; i++) pt[i] = (uint8_t)i;
    int k = hive__aead_seal(&c, pt, sizeof pt, dg, sizeof dg);
    cr_assert_eq(k, (int)sizeof dg);
    uint64_t flips = 0;
    for (size_t byte = 0; byte < sizeof dg; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, dg, sizeof dg);
            bad[byte] ^= (uint8_t)(1u << bit);
            int r = hive__aead_open(&s, bad, sizeof bad, out, sizeof out);
            cr_assert_lt(r, 0, "flip at byte %zu bit %d accepted", byte, bit);
            flips++;
        }
    }
    hive__aead_stats st = s.stats;
    cr_expect_eq(st.auth_failed + st.malformed + st.replayed, flips, "every drop is counted");
    cr_expect_eq(st.opened, 0);
    /* The untouched datagram still opens: forgeries moved no state. */
    cr_expect_eq(hive__aead_open(&s, dg, sizeof dg, out, sizeof out), 64);
    cr_expect_eq(memcmp(out, pt, 64), 0);
    /* Truncations are malformed or fail authentication. */
    for (size_t n = 0; n < sizeof dg; n++)
        cr_expect_lt(hive__aead_open(&s, dg, n, out, sizeof out), 0);
    hive__aead_free(&c);
    hive__aead_free(&s);
}

Test(aead, replays_are_dropped_reordering_is_not)
{
    hive__aead c, s;
    pair(&c, &s, HIVE__AEAD_AES256GCM);
    enum { N = 300 };
    static uint8_t dg[N][8 + HIVE__AEAD_OVERHEAD];
    uint8_t out[8];
    for (int i = 0; i < N; i++) {
        uint8_t pt[8] = { (uint8_t)i };
        cr_assert_gt(hive__aead_seal(&c, pt, sizeof pt, dg[i], sizeof dg[i]), 0);
    }
    /* Out of order within the window: all accepted once. */
    cr_expect_eq(hive__aead_open(&s, dg[5], sizeof dg[5], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[2], sizeof dg[2], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[9], sizeof dg[9], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[3], sizeof dg[3], out, sizeof out), 8);
    cr_expect_eq(out[0], 3);
    /* Replays. */
    cr_expect_eq(hive__aead_open(&s, dg[5], sizeof dg[5], out, sizeof out), HIVE_EEXIST);
    cr_expect_eq(hive__aead_open(&s, dg[2], sizeof dg[2], out, sizeof out), HIVE_EEXIST);
    cr_expect_eq(hive__aead_open(&s, dg[9], sizeof dg[9], out, sizeof out), HIVE_EEXIST);
    cr_expect_eq(s.stats.replayed, 3);
    /* Jump ahead; 4 is still inside the 128-wide window, 0 and 1 too. */
    cr_expect_eq(hive__aead_open(&s, dg[130], sizeof dg[130], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[4], sizeof dg[4], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[4], sizeof dg[4], out, sizeof out), HIVE_EEXIST);
    /* Now 0..3 fall out of the window ... */
    cr_expect_eq(hive__aead_open(&s, dg[131], sizeof dg[131], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[1], sizeof dg[1], out, sizeof out), HIVE_EEXIST, "too old");
    /* ... and a big jump clears the window entirely. */
    cr_expect_eq(hive__aead_open(&s, dg[299], sizeof dg[299], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[200], sizeof dg[200], out, sizeof out), 8);
    cr_expect_eq(hive__aead_open(&s, dg[172], sizeof dg[172], out, sizeof out), 8, "299-172 = 127: last slot");
    cr_expect_eq(hive__aead_open(&s, dg[171], sizeof dg[171], out, sizeof out), HIVE_EEXIST, "just outside");
    cr_expect_eq(hive__aead_open(&s, dg[299], sizeof dg[299], out, sizeof out), HIVE_EEXIST);
    cr_expect_eq(s.stats.replayed, 7);
    cr_expect_eq(s.stats.opened, 10);
    hive__aead_free(&c);
    hive__aead_free(&s);
}

Test(aead, forged_high_counter_does_not_move_the_window)
{
    hive__aead c, s;
    pair(&c, &s, HIVE__AEAD_AES256GCM);
    uint8_t dg[4 + HIVE__AEAD_OVERHEAD], forged[sizeof dg], out[4];
    int k = hive__aead_seal(&c, (const uint8_t *)"abcd", 4, dg, sizeof dg);
    cr_assert_gt(k, 0);
    memcpy(forged, dg, sizeof dg);
    forged[1] = 0x00; forged[2] = 0x00; forged[3] = 0x00; forged[4] = 0x00; forged[5] = 0x7f; /* huge counter */
    cr_expect_eq(hive__aead_open(&s, forged, sizeof forged, out, sizeof out), HIVE_EPROTO);
    cr_expect_eq(hive__aead_open(&s, dg, sizeof dg, out, sizeof out), 4, "real packet 0 still fresh");
    hive__aead_free(&c);
    hive__aead_free(&s);
}

/* A counter at or past 2^32 is one no sender may use: it is malformed (it
 * fails before any crypto), not a replay, and leaves the window alone. */
Test(aead, counter_past_the_limit_is_malformed_not_a_replay)
{
    hive__aead c, s;
    pair(&c, &s, HIVE__AEAD_AES256GCM);
    uint8_t dg[4 + HIVE__AEAD_OVERHEAD], forged[sizeof dg], out[4];
    cr_assert_gt(hive__aead_seal(&c, (const uint8_t *)"abcd", 4, dg, sizeof dg), 0);
    memcpy(forged, dg, sizeof dg);
    forged[4] = 0x01;   /* counter = 2^32: bytes 1..8 big-endian */
    cr_expect_eq(hive__aead_open(&s, forged, sizeof forged, out, sizeof out), HIVE_EPROTO);
    cr_expect_eq(s.stats.malformed, 1);
    cr_expect_eq(s.stats.replayed, 0);
    cr_expect_eq(s.stats.auth_failed, 0);
    cr_expect_eq(hive__aead_open(&s, dg, sizeof dg, out, sizeof out), 4, "real packet 0 still fresh");
    hive__aead_free(&c);
    hive__aead_free(&s);
}

Test(aead, seal_checks_room)
{
    hive__aead c, s;
    pair(&c, &s, HIVE__AEAD_AES256GCM);
    uint8_t out[HIVE__AEAD_OVERHEAD + 3];
    cr_expect_eq(hive__aead_seal(&c, (const uint8_t *)"abcd", 4, out, sizeof out), HIVE_EINVAL);
    c.tx_next = HIVE__AEAD_MAX_PACKETS;
    cr_expect_eq(hive__aead_seal(&c, (const uint8_t *)"abc", 3, out, sizeof out), HIVE_ELIMIT);
    hive__aead zero = { 0 };
    cr_expect_eq(hive__aead_seal(&zero, (const uint8_t *)"a", 1, out, sizeof out), HIVE_ESTATE);
    hive__aead_free(&zero);
    hive__aead_free(&c);
    hive__aead_free(&s);
}

Test(aead, keys_from_a_tls_session_agree)
{
    certgen C;
    cr_assert(certgen_make(&C));
    char err[HIVE__TLS_ERR_MAX];
    hive__tls_ctx *sc = hive__tls_ctx_create(&(hive_tls_config){ .cert_file = C.server_crt,
                                              .key_file = C.server_key }, true, err, sizeof err);
    hive__tls_ctx *cc = hive__tls_ctx_create(&(hive_tls_config){ .ca_file = C.ca }, false, err, sizeof err);
    cr_assert(sc && cc, "%s", err);
    hive__tls *ts = hive__tls_create(sc, NULL), *tc = hive__tls_create(cc, "localhost");
    hive__aead early;
    cr_expect_eq(hive__aead_init_tls(&early, tc, false), HIVE_ESTATE, "no keys before the handshake");
    int cr, sr;
    mempair_handshake(tc, ts, &cr, &sr);
    cr_assert(cr == 1 && sr == 1);
    hive__aead a, b;
    cr_assert_eq(hive__aead_init_tls(&a, tc, false), 0);
    cr_assert_eq(hive__aead_init_tls(&b, ts, true), 0);
    uint8_t dg[64], out[64];
    int k = hive__aead_seal(&a, (const uint8_t *)"c2s", 3, dg, sizeof dg);
    cr_expect_eq(hive__aead_open(&b, dg, (size_t)k, out, sizeof out), 3);
    k = hive__aead_seal(&b, (const uint8_t *)"s2c!", 4, dg, sizeof dg);
    cr_expect_eq(hive__aead_open(&a, dg, (size_t)k, out, sizeof out), 4);
    cr_expect_eq(memcmp(out, "s2c!", 4), 0);
    hive__aead_free(&a); hive__aead_free(&b);
    hive__tls_destroy(tc); hive__tls_destroy(ts);
    hive__tls_ctx_destroy(cc); hive__tls_ctx_destroy(sc);
    certgen_remove(&C);
}
