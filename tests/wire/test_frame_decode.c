/* Frame decode: whole frames, every truncation, several frames per buffer,
 * and every malformed header the protocol names. */
#include <criterion/criterion.h>
#include "wire_test.h"

#define MAX 1024u

/* {"a":1} */
static const uint8_t BODY[] = { 0x81, 0xa1, 'a', 0x01 };

Test(frame_decode, whole_frame, .timeout = 5)
{
    uint8_t buf[64];
    size_t n = wt_frame(buf, 300, 0, BODY, sizeof BODY);
    hive__frame f;
    cr_assert_eq(hive__frame_decode(buf, n, MAX, &f), 1);
    cr_expect_eq(f.pid, 300);
    cr_expect_eq(f.flags, 0);
    cr_expect_eq(f.body_len, sizeof BODY);
    cr_expect_eq(memcmp(f.body, BODY, sizeof BODY), 0);
    cr_expect_eq(f.size, n);
    cr_expect_eq(f.body, buf + n - sizeof BODY, "body points into the input");
}

Test(frame_decode, header_bytes_are_as_specified, .timeout = 5)
{
    uint8_t buf[64];
    size_t n = wt_frame(buf, 300, 0, BODY, sizeof BODY);
    /* length = pid(2) + flags(1) + body(4) = 7; pid 300 = ac 02 */
    const uint8_t want[] = { 0x07, 0xac, 0x02, 0x00, 0x81, 0xa1, 'a', 0x01 };
    cr_assert_eq(n, sizeof want);
    cr_expect_eq(memcmp(buf, want, n), 0);
}

Test(frame_decode, truncated_at_every_byte_needs_more, .timeout = 5)
{
    uint8_t buf[64];
    size_t n = wt_frame(buf, UINT32_MAX, 0, BODY, sizeof BODY);
    for (size_t i = 0; i < n; i++) {
        hive__frame f = { .pid = 42 };
        cr_expect_eq(hive__frame_decode(buf, i, MAX, &f), 0, "prefix %zu of %zu", i, n);
        cr_expect_eq(f.pid, 42, "frame untouched");
    }
}

Test(frame_decode, two_frames_in_one_buffer, .timeout = 5)
{
    uint8_t buf[64];
    size_t a = wt_frame(buf, 64, 0, BODY, sizeof BODY);
    size_t b = wt_frame(buf + a, 65, 0, "\xc0", 1);
    hive__frame f;
    cr_assert_eq(hive__frame_decode(buf, a + b, MAX, &f), 1);
    cr_expect_eq(f.pid, 64);
    cr_expect_eq(f.size, a);
    cr_assert_eq(hive__frame_decode(buf + f.size, a + b - f.size, MAX, &f), 1);
    cr_expect_eq(f.pid, 65);
    cr_expect_eq(f.body_len, 1);
    cr_expect_eq(f.body[0], 0xc0);
}

Test(frame_decode, oversize_length_rejected_before_body_arrives, .timeout = 5)
{
    uint8_t buf[HIVE__VARINT_MAX];
    size_t n = hive__varint_encode(MAX + 1, buf);   /* only the length varint */
    hive__frame f;
    cr_expect_eq(hive__frame_decode(buf, n, MAX, &f), HIVE_ETOOBIG);
    n = hive__varint_encode(UINT32_MAX, buf);
    cr_expect_eq(hive__frame_decode(buf, n, MAX, &f), HIVE_ETOOBIG);
    /* exactly max_frame is fine: still waiting for the rest */
    n = hive__varint_encode(MAX, buf);
    cr_expect_eq(hive__frame_decode(buf, n, MAX, &f), 0);
}

Test(frame_decode, length_exactly_max_frame_decodes, .timeout = 5)
{
    static uint8_t buf[2048];
    static uint8_t body[MAX - 2];
    memset(body, 0xc0, sizeof body);
    size_t n = wt_frame(buf, 1, 0, body, sizeof body);
    hive__frame f;
    cr_assert_eq(hive__frame_decode(buf, n, MAX, &f), 1);
    cr_expect_eq(f.body_len, MAX - 2);
    cr_expect_eq(hive__frame_decode(buf, n, MAX - 1, &f), HIVE_ETOOBIG);
}

Test(frame_decode, unknown_flag_bits_are_bad_frame, .timeout = 5)
{
    for (unsigned fl = 1; fl < 256; fl++) {
        uint8_t buf[64];
        size_t n = wt_frame(buf, 64, (uint8_t)fl, BODY, sizeof BODY);
        hive__frame f;
        if (!(fl & ~HIVE__FLAGS_KNOWN)) {   /* protocol 2's counted-frame bit */
            cr_expect_eq(hive__frame_decode(buf, n, MAX, &f), 1, "flags 0x%02x", fl);
            cr_expect_eq(f.flags, fl);
            continue;
        }
        cr_expect_eq(hive__frame_decode(buf, n, MAX, &f), HIVE_EPROTO, "flags 0x%02x", fl);
        /* reported as soon as the flags byte is there, body or not */
        cr_expect_eq(hive__frame_decode(buf, 3, MAX, &f), HIVE_EPROTO, "flags 0x%02x, no body", fl);
    }
}

Test(frame_decode, length_too_small_is_bad_frame, .timeout = 5)
{
    const uint8_t zero[] = { 0x00 };
    const uint8_t one[] = { 0x01, 0x40 };
    const uint8_t one_alone[] = { 0x01 };
    hive__frame f;
    cr_expect_eq(hive__frame_decode(zero, sizeof zero, MAX, &f), HIVE_EPROTO);
    cr_expect_eq(hive__frame_decode(one, sizeof one, MAX, &f), HIVE_EPROTO);
    cr_expect_eq(hive__frame_decode(one_alone, sizeof one_alone, MAX, &f), HIVE_EPROTO);
}

Test(frame_decode, pid_varint_overrunning_the_length_is_bad_frame, .timeout = 5)
{
    /* length 2, pid 0x80 0x01 leaves no room for the flags byte */
    const uint8_t a[] = { 0x02, 0x80, 0x01, 0x00 };
    /* length 3, pid continues past the length */
    const uint8_t b[] = { 0x03, 0x80, 0x80, 0x80, 0x01, 0x00 };
    hive__frame f;
    cr_expect_eq(hive__frame_decode(a, sizeof a, MAX, &f), HIVE_EPROTO);
    cr_expect_eq(hive__frame_decode(b, sizeof b, MAX, &f), HIVE_EPROTO);
    cr_expect_eq(hive__frame_decode(b, 3, MAX, &f), 0, "can't know yet");
    cr_expect_eq(hive__frame_decode(b, 4, MAX, &f), HIVE_EPROTO);
}

Test(frame_decode, six_byte_varints_are_bad_frame, .timeout = 5)
{
    const uint8_t len6[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    const uint8_t pid6[] = { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00, 0xc0 };
    hive__frame f;
    cr_expect_eq(hive__frame_decode(len6, sizeof len6, UINT32_MAX, &f), HIVE_EPROTO);
    cr_expect_eq(hive__frame_decode(pid6, sizeof pid6, MAX, &f), HIVE_EPROTO);
}

Test(frame_decode, empty_body_decodes_and_pid_zero_is_not_judged, .timeout = 5)
{
    const uint8_t b[] = { 0x02, 0x00, 0x00 };
    hive__frame f;
    cr_assert_eq(hive__frame_decode(b, sizeof b, MAX, &f), 1);
    cr_expect_eq(f.pid, 0);
    cr_expect_eq(f.body_len, 0);
    cr_expect_eq(hive__frame_check_body(f.body, f.body_len), HIVE_EMSGPACK);
}

Test(frame_decode, header_refuses_lengths_over_32_bits, .timeout = 5)
{
    uint8_t h[HIVE__FRAME_HEADER_MAX];
    cr_expect_eq(hive__frame_header(h, UINT32_MAX, 0, (size_t)UINT32_MAX), 0);
    cr_expect_eq(hive__frame_header(h, UINT32_MAX, 0, (size_t)UINT32_MAX - 6), 11);
    cr_expect_eq(hive__frame_header(h, 1, 0, 0), 3);
}
