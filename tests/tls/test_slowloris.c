/* Slow senders over tls:// (hive/net.h SLOW SENDERS): the frame deadline
 * counts plaintext frames, whatever TLS records the trickle comes in. */
#include "tests/support/slowloris.h"
#include "certgen.h"

static certgen C;
static void setup(void) { cr_assert(certgen_make(&C)); }
static void teardown(void) { certgen_remove(&C); }
TestSuite(tls_slowloris, .init = setup, .fini = teardown, .timeout = 60);

Test(tls_slowloris, a_frame_trickled_after_the_handshake_is_closed_as_slow_sender)
{
    sl_run r;
    hive_server_config cfg = { .frame_timeout_ms = 600,
                               .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    hive_tls_config ct = { .ca_file = C.ca };
    sl_start(&r, "tls", cfg, &ct);
    flood_peer p;
    int reason = sl_trickle(&r, true, false, 8000, &p);
    cr_expect(flood_ready(&p), "the trickler completed its handshake: %s", p.why);
    cr_expect_eq(reason, HIVE_CLOSE_SLOW_SENDER, "closed as %s", hive_close_reason_name(reason));
    hive_net_stats st;
    hive_server_stats(r.srv, &st);
    cr_expect_eq(st.slow_senders, 1);
    cr_expect(sl_roundtrip(&r, 2000), "the good client still plays");
    flood_stop(&p);
    sl_free(&r);
}

/* Receive limits (hive/net.h RECEIVE LIMITS) count plaintext frames over
 * tls:// too: a ping flood past recv_frames_per_sec is rate_limited. */
Test(tls_slowloris, a_ping_flood_past_recv_frames_per_sec_is_closed_as_rate_limited)
{
    sl_run r;
    hive_server_config cfg = { .recv_frames_per_sec = 100,
                               .tls = { .cert_file = C.server_crt, .key_file = C.server_key } };
    hive_tls_config ct = { .ca_file = C.ca };
    sl_start(&r, "tls", cfg, &ct);
    flood_peer p;
    int reason = sl_flood(&r, true, 15000, &p);
    cr_expect_eq(reason, HIVE_CLOSE_RATE_LIMITED, "closed as %s", hive_close_reason_name(reason));
    cr_expect(flood_ready(&p), "the flooder completed its handshake: %s", p.why);
    hive_net_stats st;
    hive_server_stats(r.srv, &st);
    cr_expect_eq(st.rate_limited, 1);
    cr_expect_not(r.good_closed);
    cr_expect(sl_roundtrip(&r, 2000), "the good client still plays");
    flood_stop(&p);
    sl_free(&r);
}
