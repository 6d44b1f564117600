/*
 * Malformed frames: each ends in a clean close with the right reason
 * while the server keeps serving its other connection.
 */
#include "net_test.h"

Test(bad_frame, truncated_frame_in_a_datagram, .timeout = 30)
{
    /* Declares 10 bytes after the length, carries 3. */
    const uint8_t b[] = { 0x0a, 0x40, 0x00, 0xc0 };
    expect_bad(b, sizeof b, true, HIVE_CLOSE_BAD_FRAME, NULL);
}

Test(bad_frame, truncated_length_varint, .timeout = 30)
{
    const uint8_t b[] = { 0x80 };
    expect_bad(b, sizeof b, true, HIVE_CLOSE_BAD_FRAME, NULL);
}

Test(bad_frame, length_varint_longer_than_five_bytes, .timeout = 30)
{
    const uint8_t b[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x40, 0x00, 0xc0 };
    expect_bad(b, sizeof b, true, HIVE_CLOSE_BAD_FRAME, NULL);
}

Test(bad_frame, length_over_max_frame_rejected_from_the_header, .timeout = 30)
{
    /* Only the length varint (1,000,000) and two header bytes: the verdict
     * comes from the length alone, no body is ever waited for. */
    hive_server_config cfg = { .max_frame = 8192 };
    const uint8_t b[] = { 0xc0, 0x84, 0x3d, 0x40, 0x00 };
    expect_bad(b, sizeof b, true, HIVE_CLOSE_FRAME_TOO_LARGE, &cfg);
}

Test(bad_frame, length_just_over_max_frame, .timeout = 30)
{
    hive_server_config cfg = { .max_frame = 8192 };
    static uint8_t b[8200];
    size_t hn = hive__frame_header(b, 64, 0, 8192 - 1);   /* length = 8193 */
    memset(b + hn, 0xc0, 8191);
    expect_bad(b, hn + 8191, true, HIVE_CLOSE_FRAME_TOO_LARGE, &cfg);
}

Test(bad_frame, unknown_flag_bits, .timeout = 30)
{
    const uint8_t b[] = { 0x03, 0x40, 0x01, 0xc0 };
    expect_bad(b, sizeof b, true, HIVE_CLOSE_BAD_FRAME, NULL);
}

Test(bad_frame, length_too_small_for_a_header, .timeout = 30)
{
    const uint8_t b[] = { 0x01, 0x40 };
    expect_bad(b, sizeof b, true, HIVE_CLOSE_BAD_FRAME, NULL);
}

Test(bad_frame, garbage_before_the_handshake, .timeout = 30)
{
    const uint8_t b[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    expect_bad(b, sizeof b, false, HIVE_CLOSE_BAD_FRAME, NULL);
}

Test(bad_frame, frame_over_the_minimum_before_the_hello, .timeout = 30)
{
    /* A 9,000-byte "hello" to a server whose max_frame is 65536: until
     * the peer's hello is in, a server takes at most HIVE_MIN_MAX_FRAME
     * bytes a frame (docs/PROTOCOL.md), so a half-open link cannot make it
     * buffer a whole max_frame. */
    static uint8_t b[9100];
    size_t hn = hive__frame_header(b, 1, 0, 9000);
    memset(b + hn, 0xc0, 9000);
    expect_bad(b, hn + 9000, false, HIVE_CLOSE_FRAME_TOO_LARGE, NULL);
}

Test(bad_frame, hello_at_the_minimum_is_still_judged_as_a_hello, .timeout = 30)
{
    /* 8,000 bytes of nil after a hello header: under the pre-hello limit,
     * so the frame is read whole and judged by its body (not one msgpack
     * object: bad_handshake or bad_msgpack), not by its size. */
    static uint8_t b[8100];
    size_t hn = hive__frame_header(b, 1, 0, 8000);
    memset(b + hn, 0xc0, 8000);
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    raw_peer p;
    raw_connect(&p, fx.srv);
    int64_t cid = fx_accepted_cid(&fx, 1);
    cr_assert_gt(cid, 0);
    raw_send(&p, b, hn + 8000, 0);
    const rec_event *e = fx_wait_close(&fx, &p, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_neq(e->reason, HIVE_CLOSE_FRAME_TOO_LARGE, "closed as %s", e->reason_name);
    raw_destroy(&p);
    fx_fini(&fx);
}
