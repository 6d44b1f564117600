/*
 * Receive limits (hive/net.h RECEIVE LIMITS): a connection that sends more
 * frames or bytes a second than allowed is closed with rate_limited while
 * a well-behaved client keeps playing; traffic under the limit is never
 * touched; the limits are checked at create.
 */
#include "tests/support/slowloris.h"

TestSuite(rx_limits, .timeout = 60);

/* sl_flood against a tcp:// server with the given limits. */
static int flood_against(sl_run *r, hive_server_config cfg, flood_peer *p)
{
    sl_start(r, "tcp", cfg, NULL);
    return sl_flood(r, false, 10000, p);
}

Test(rx_limits, a_ping_flood_over_the_frame_limit_is_closed)
{
    sl_run r;
    flood_peer p;
    int reason = flood_against(&r, (hive_server_config){ .recv_frames_per_sec = 200 }, &p);
    cr_expect(flood_ready(&p), "the flooder completed its handshake: %s", p.why);
    cr_expect_eq(reason, HIVE_CLOSE_RATE_LIMITED, "closed as %s", hive_close_reason_name(reason));
    cr_expect_eq(r.other_remote, 0);
    hive_net_stats st;
    hive_server_stats(r.srv, &st);
    cr_expect_eq(st.rate_limited, 1);
    cr_expect_not(r.good_closed);
    cr_expect(sl_roundtrip(&r, 2000), "the good client still plays");
    flood_stop(&p);
    sl_free(&r);
}

Test(rx_limits, a_flood_over_the_byte_limit_is_closed)
{
    sl_run r;
    flood_peer p;
    int reason = flood_against(&r, (hive_server_config){ .recv_bytes_per_sec = 65536 }, &p);
    cr_expect_eq(reason, HIVE_CLOSE_RATE_LIMITED, "closed as %s", hive_close_reason_name(reason));
    cr_expect(sl_roundtrip(&r, 2000), "the good client still plays");
    flood_stop(&p);
    sl_free(&r);
}

Test(rx_limits, traffic_under_the_limit_is_never_touched)
{
    sl_run r;
    /* 50 frames a second allowed; the client sends a chat about every
     * 50 ms (20 a second, plus heartbeats) for 2 s, and a burst of 30 at
     * once: within the one second's worth the bucket holds. */
    sl_start(&r, "tcp", (hive_server_config){ .recv_frames_per_sec = 50, .recv_bytes_per_sec = 65536 }, NULL);
    for (int i = 0; i < 40; i++) {
        cr_assert(sl_roundtrip(&r, 2000), "round trip %d", i);
        sl_pump(&r, 50);
    }
    sl_pump(&r, 1000);   /* the bucket refills */
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 0);
    for (int i = 0; i < 30; i++) cr_assert_eq(hive_client_send_msg(r.cli, "game:chat", &m), HIVE_OK);
    hive_msg_free(&m);
    sl_pump(&r, 500);
    cr_expect_not(r.good_closed);
    cr_expect_eq(hive_client_get_state(r.cli), HIVE_CLIENT_OPEN);
    hive_net_stats st;
    hive_server_stats(r.srv, &st);
    cr_expect_eq(st.rate_limited, 0);
    sl_free(&r);
}

Test(rx_limits, a_burst_over_a_seconds_worth_is_closed)
{
    sl_run r;
    sl_start(&r, "tcp", (hive_server_config){ .recv_frames_per_sec = 20 }, NULL);
    hive_msg m;
    hive_msg_init(&m);
    hive_msg_map(&m, 0);
    for (int i = 0; i < 100; i++) hive_client_send_msg(r.cli, "game:chat", &m);
    hive_msg_free(&m);
    uint64_t end = hive_now_ns() + 5000000000ull;
    while (!r.good_closed && hive_now_ns() < end) sl_pump(&r, 10);
    cr_expect(r.good_closed, "100 frames at once against 20 a second");
    cr_expect_eq(hive_client_close_reason(r.cli), HIVE_CLOSE_RATE_LIMITED, "client told %s",
                 hive_close_reason_name(hive_client_close_reason(r.cli)));
    sl_free(&r);
}

Test(rx_limits, limits_are_checked_at_create)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_expect_null(hive_server_create(&(hive_server_config){ .recv_frames_per_sec = 5 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "recv_frames_per_sec");
    cr_expect_null(hive_server_create(&(hive_server_config){ .recv_bytes_per_sec = 1000 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "recv_bytes_per_sec");
    cr_expect_null(hive_client_create(&(hive_client_config){ .recv_bytes_per_sec = 65535 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "recv_bytes_per_sec");
    hive_server *s = hive_server_create(&(hive_server_config){ .recv_frames_per_sec = 10, .max_frame = 8192,
                                                               .recv_bytes_per_sec = 8192 }, bus);
    cr_assert_not_null(s, "%s", hive_create_error()->message);
    hive_server_config sc;
    hive_server_config_get(s, &sc);
    cr_expect_eq(sc.recv_frames_per_sec, 10);
    cr_expect_eq(sc.recv_bytes_per_sec, 8192);
    cr_expect_str_eq(hive_close_reason_name(HIVE_CLOSE_RATE_LIMITED), "rate_limited");
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}
