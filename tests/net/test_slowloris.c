/*
 * Slow senders over tcp:// (hive/net.h SLOW SENDERS): a frame begun must
 * finish within frame_timeout_ms, whatever trickle keeps the connection's
 * heartbeat fresh; whole frames in a row are never affected.
 */
#include "tests/support/slowloris.h"

TestSuite(slowloris, .timeout = 60);

Test(slowloris, a_frame_trickled_after_the_handshake_is_closed_as_slow_sender)
{
    sl_run r;
    /* heartbeat_timeout 10 s: only the frame deadline can end it in time. */
    sl_start(&r, "tcp", (hive_server_config){ .frame_timeout_ms = 600 }, NULL);
    flood_peer p;
    int reason = sl_trickle(&r, false, false, 8000, &p);
    cr_expect(flood_ready(&p), "the trickler completed its handshake: %s", p.why);
    cr_expect_eq(reason, HIVE_CLOSE_SLOW_SENDER, "closed as %s", hive_close_reason_name(reason));
    cr_expect_eq(r.other_remote, 0, "the server decided");
    cr_expect_gt(__atomic_load_n(&p.trickled, __ATOMIC_RELAXED), 5u, "it did trickle");
    hive_net_stats st;
    hive_server_stats(r.srv, &st);
    cr_expect_eq(st.slow_senders, 1);
    cr_expect_not(r.good_closed);
    cr_expect(sl_roundtrip(&r, 2000), "the good client still plays");
    flood_stop(&p);
    sl_free(&r);
}

Test(slowloris, a_trickled_hello_ends_with_the_handshake_timeout)
{
    sl_run r;
    sl_start(&r, "tcp", (hive_server_config){ .handshake_timeout_ms = 800 }, NULL);
    flood_peer p;
    int reason = sl_trickle(&r, false, true, 8000, &p);
    cr_expect_eq(reason, HIVE_CLOSE_HANDSHAKE_TIMEOUT, "closed as %s", hive_close_reason_name(reason));
    cr_expect(sl_roundtrip(&r, 2000));
    flood_stop(&p);
    sl_free(&r);
}

Test(slowloris, the_frame_deadline_also_holds_during_the_handshake)
{
    sl_run r;
    sl_start(&r, "tcp", (hive_server_config){ .handshake_timeout_ms = 20000, .frame_timeout_ms = 500 }, NULL);
    flood_peer p;
    int reason = sl_trickle(&r, false, true, 8000, &p);
    cr_expect_eq(reason, HIVE_CLOSE_SLOW_SENDER, "closed as %s", hive_close_reason_name(reason));
    flood_stop(&p);
    sl_free(&r);
}

Test(slowloris, whole_frames_for_longer_than_the_deadline_are_fine)
{
    sl_run r;
    sl_start(&r, "tcp", (hive_server_config){ .frame_timeout_ms = 200 }, NULL);
    /* 40 round trips ~50 ms apart: 2 s of traffic, ten deadlines' worth. */
    for (int i = 0; i < 40; i++) {
        cr_assert(sl_roundtrip(&r, 2000), "round trip %d", i);
        sl_pump(&r, 50);
    }
    cr_expect_not(r.good_closed);
    hive_net_stats st;
    hive_server_stats(r.srv, &st);
    cr_expect_eq(st.slow_senders, 0);
    sl_free(&r);
}

Test(slowloris, frame_timeout_ms_limits_and_default)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_expect_null(hive_server_create(&(hive_server_config){ .frame_timeout_ms = 50 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "frame_timeout_ms");
    cr_expect_null(hive_client_create(&(hive_client_config){ .frame_timeout_ms = 99 }, bus));
    cr_expect_str_eq(hive_create_error()->field, "frame_timeout_ms");
    hive_server *s = hive_server_create(NULL, bus);
    hive_client *c = hive_client_create(NULL, bus);
    hive_server_config sc;
    hive_client_config cc;
    hive_server_config_get(s, &sc);
    hive_client_config_get(c, &cc);
    cr_expect_eq(sc.frame_timeout_ms, HIVE_DEFAULT_FRAME_TIMEOUT_MS);
    cr_expect_eq(cc.frame_timeout_ms, HIVE_DEFAULT_FRAME_TIMEOUT_MS);
    cr_expect_str_eq(hive_close_reason_name(HIVE_CLOSE_SLOW_SENDER), "slow_sender");
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}
