/* rxbuf: stream reassembly for TCP/TLS, fed in every possible chunking. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "wire_test.h"

#define MAX 1000u

/* A stream of n frames with pids 64.. and bodies of growing nil arrays. */
static size_t make_stream(uint8_t *out, int nframes)
{
    size_t n = 0;
    for (int i = 0; i < nframes; i++) {
        uint8_t body[32];
        size_t bl = 0;
        body[bl++] = (uint8_t)(0x90 | (i % 16));
        for (int k = 0; k < i % 16; k++) body[bl++] = 0xc0;
        n += wt_frame(out + n, 64 + (uint32_t)i * 50, 0, body, bl);
    }
    return n;
}

/* True when f is frame i of make_stream. Loops count mismatches and
 * assert once, so a long loop does not flood the runner with events. */
static bool frame_ok(const hive__frame *f, int i)
{
    return f->pid == 64 + (uint32_t)i * 50 && f->body_len == 1 + (size_t)(i % 16) &&
           f->body[0] == (0x90 | (i % 16)) && hive__frame_check_body(f->body, f->body_len) == 0;
}

Test(rxbuf, byte_by_byte, .timeout = 5)
{
    uint8_t s[4096];
    size_t n = make_stream(s, 40);
    hive__rxbuf rx = { 0 };
    hive__frame f;
    int got = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (hive__rxbuf_append(&rx, s + i, 1) != 0) bad++;
        int rc;
        while ((rc = hive__rxbuf_next(&rx, MAX, &f)) == 1) bad += !frame_ok(&f, got++);
        if (rc != 0) cr_assert_fail("byte %zu: %s", i, hive_err_name(rc));
    }
    cr_expect_eq(bad, 0);
    cr_expect_eq(got, 40);
    cr_expect_eq(rx.len - rx.off, 0);
    hive__rxbuf_free(&rx);
    cr_expect_null(rx.data);
}

Test(rxbuf, every_chunk_size, .timeout = 5)
{
    uint8_t s[4096];
    size_t n = make_stream(s, 40);
    size_t wrong = 0;
    for (size_t chunk = 1; chunk <= n; chunk++) {
        hive__rxbuf rx = { 0 };
        hive__frame f;
        int got = 0, bad = 0;
        for (size_t i = 0; i < n; i += chunk) {
            size_t c = n - i < chunk ? n - i : chunk;
            if (hive__rxbuf_append(&rx, s + i, c) != 0) bad++;
            int rc;
            while ((rc = hive__rxbuf_next(&rx, MAX, &f)) == 1) bad += !frame_ok(&f, got++);
            bad += rc != 0;
        }
        if (bad || got != 40) { wrong++; cr_log_error("chunk %zu: %d frames, %d bad", chunk, got, bad); }
        hive__rxbuf_free(&rx);
    }
    cr_expect_eq(wrong, 0, "chunk sizes 1..%zu", n);
}

Test(rxbuf, never_holds_more_than_the_declared_frame, .timeout = 5)
{
    /* One frame of exactly max_frame trickled in byte by byte: the buffer
     * never grows past the frame's own size. */
    static uint8_t s[2048], body[MAX - 3];
    body[0] = 0xc5;                          /* bin16 */
    body[1] = (uint8_t)((sizeof body - 3) >> 8);
    body[2] = (uint8_t)(sizeof body - 3);
    size_t n = wt_frame(s, 64, 0, body, sizeof body);
    cr_assert_leq(n, MAX + HIVE__FRAME_HEADER_MAX);
    hive__rxbuf rx = { 0 };
    hive__frame f;
    int done = 0;
    size_t maxcap = 0;
    for (size_t i = 0; i < n; i++) {
        if (hive__rxbuf_append(&rx, s + i, 1) != 0) cr_assert_fail("append %zu", i);
        if (rx.cap > maxcap) maxcap = rx.cap;
        int rc = hive__rxbuf_next(&rx, MAX, &f);
        if (rc < 0) cr_assert_fail("byte %zu: %s", i, hive_err_name(rc));
        if (rc == 1) {
            done = 1;
            cr_expect_eq(i + 1, n);
            cr_expect_eq(hive__frame_check_body(f.body, f.body_len), 0);
        }
    }
    cr_expect(done);
    cr_expect_leq(maxcap, n, "largest capacity %zu for a %zu-byte frame", maxcap, n);
    hive__rxbuf_free(&rx);
}

Test(rxbuf, oversize_frame_refused_from_its_length, .timeout = 5)
{
    uint8_t s[HIVE__VARINT_MAX];
    size_t n = hive__varint_encode(MAX + 1, s);
    hive__rxbuf rx = { 0 };
    hive__frame f;
    for (size_t i = 0; i + 1 < n; i++) {
        cr_assert_eq(hive__rxbuf_append(&rx, s + i, 1), 0);
        cr_assert_eq(hive__rxbuf_next(&rx, MAX, &f), 0);
    }
    cr_assert_eq(hive__rxbuf_append(&rx, s + n - 1, 1), 0);
    cr_expect_eq(hive__rxbuf_next(&rx, MAX, &f), HIVE_ETOOBIG);
    cr_expect_leq(rx.cap, 64, "nothing beyond the header was buffered");
    hive__rxbuf_free(&rx);
}

Test(rxbuf, body_stays_valid_until_next_append, .timeout = 5)
{
    uint8_t s[256];
    size_t a = wt_frame(s, 64, 0, "\xa3" "abc", 4);
    size_t b = wt_frame(s + a, 65, 0, "\xa3" "xyz", 4);
    hive__rxbuf rx = { 0 };
    hive__frame f1, f2;
    cr_assert_eq(hive__rxbuf_append(&rx, s, a + b), 0);
    cr_assert_eq(hive__rxbuf_next(&rx, MAX, &f1), 1);
    cr_assert_eq(hive__rxbuf_next(&rx, MAX, &f2), 1);
    cr_expect_eq(memcmp(f1.body, "\xa3" "abc", 4), 0, "first body intact after second next");
    cr_expect_eq(memcmp(f2.body, "\xa3" "xyz", 4), 0);
    cr_expect_eq(hive__rxbuf_next(&rx, MAX, &f2), 0);
    hive__rxbuf_free(&rx);
}

Test(rxbuf, compacts_consumed_bytes, .timeout = 5)
{
    /* Appends of one and a half frames, drained each time: the half frame
     * carries over, and capacity stays small however long the stream. */
    uint8_t s[32];
    size_t n = wt_frame(s, 64, 0, "\xc0", 1);
    memcpy(s + n, s, n);
    size_t h = n + n / 2;
    hive__rxbuf rx = { 0 };
    hive__frame f;
    int got = 0, bad = 0;
    for (int i = 0; i < 10000; i++) {
        bad += hive__rxbuf_append(&rx, s, h) != 0;
        while (hive__rxbuf_next(&rx, MAX, &f) == 1) { bad += f.pid != 64; got++; }
        bad += hive__rxbuf_append(&rx, s + h, 2 * n - h) != 0;
        while (hive__rxbuf_next(&rx, MAX, &f) == 1) { bad += f.pid != 64; got++; }
        bad += rx.len != rx.off;
    }
    cr_expect_eq(bad, 0);
    cr_expect_eq(got, 20000);
    cr_expect_leq(rx.cap, 64);
    hive__rxbuf_free(&rx);
}

Test(rxbuf, errors_are_reported_and_sticky, .timeout = 5)
{
    const uint8_t bad[] = { 0x03, 0x40, 0x04, 0xc0 };   /* flags 0x04: no such bit */
    hive__rxbuf rx = { 0 };
    hive__frame f;
    cr_assert_eq(hive__rxbuf_append(&rx, bad, sizeof bad), 0);
    cr_expect_eq(hive__rxbuf_next(&rx, MAX, &f), HIVE_EPROTO);
    cr_expect_eq(hive__rxbuf_next(&rx, MAX, &f), HIVE_EPROTO);
    hive__rxbuf_free(&rx);
    hive__rxbuf_free(&rx);
    hive__rxbuf_free(NULL);
}

Test(rxbuf, empty_and_invalid_arguments, .timeout = 5)
{
    hive__rxbuf rx = { 0 };
    hive__frame f;
    cr_expect_eq(hive__rxbuf_next(&rx, MAX, &f), 0);
    cr_expect_eq(hive__rxbuf_append(&rx, NULL, 0), 0);
    cr_expect_eq(hive__rxbuf_append(&rx, NULL, 1), HIVE_EINVAL);
    cr_expect_eq(hive__rxbuf_append(NULL, "x", 1), HIVE_EINVAL);
    cr_expect_null(rx.data);
}

Test(rxbuf, gives_back_memory_after_a_big_frame, .timeout = 5)
{
    const uint32_t big = 1u << 20;
    uint8_t *s = malloc((1u << 20) + 16);
    uint8_t *body = calloc(1, (1u << 20) - 16);
    cr_assert(s && body);
    body[0] = 0xc6;                                   /* bin32 */
    const size_t body_len = (1u << 20) - 16;
    uint32_t bl = (uint32_t)body_len - 5;
    body[1] = (uint8_t)(bl >> 24); body[2] = (uint8_t)(bl >> 16);
    body[3] = (uint8_t)(bl >> 8);  body[4] = (uint8_t)bl;
    size_t n = wt_frame(s, 64, 0, body, body_len);
    hive__rxbuf rx = { 0 };
    hive__frame f;
    cr_assert_eq(hive__rxbuf_append(&rx, s, n), 0);
    cr_assert_eq(hive__rxbuf_next(&rx, big, &f), 1);
    cr_expect_eq(hive__frame_check_body(f.body, f.body_len), 0);
    size_t m = wt_frame(s, 65, 0, "\xc0", 1);
    cr_assert_eq(hive__rxbuf_append(&rx, s, m), 0);
    cr_expect_leq(rx.cap, 64 * 1024);
    cr_assert_eq(hive__rxbuf_next(&rx, big, &f), 1);
    cr_expect_eq(f.pid, 65);
    hive__rxbuf_free(&rx);
    free(s);
    free(body);
}
