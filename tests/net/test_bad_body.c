/* Frame bodies that are not exactly one msgpack object. */
#include "net_test.h"

static void send_body(const uint8_t *body, size_t n, bool handshake, uint32_t pid)
{
    uint8_t b[64];
    size_t hn = hive__frame_header(b, pid, 0, n);
    memcpy(b + hn, body, n);
    expect_bad(b, hn + n, handshake, HIVE_CLOSE_BAD_MSGPACK, NULL);
}

Test(bad_body, not_msgpack, .timeout = 30)
{
    const uint8_t body[] = { 0xc1 };            /* never-used byte */
    send_body(body, sizeof body, true, 64);
}

Test(bad_body, trailing_bytes, .timeout = 30)
{
    const uint8_t body[] = { 0x01, 0x02 };      /* two objects */
    send_body(body, sizeof body, true, 64);
}

Test(bad_body, truncated_object, .timeout = 30)
{
    const uint8_t body[] = { 0x92, 0x01 };      /* array of 2, one element */
    send_body(body, sizeof body, true, 64);
}

Test(bad_body, empty_body, .timeout = 30)
{
    const uint8_t b[] = { 0x02, 0x40, 0x00 };   /* pid 64, flags, nothing */
    expect_bad(b, sizeof b, true, HIVE_CLOSE_BAD_MSGPACK, NULL);
}

Test(bad_body, huge_declared_array, .timeout = 30)
{
    /* array32 of 4 billion elements in 5 bytes: refused without allocating. */
    const uint8_t body[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    send_body(body, sizeof body, true, 64);
}

Test(bad_body, bad_hello_body, .timeout = 30)
{
    const uint8_t body[] = { 0xc1 };
    send_body(body, sizeof body, false, 1);
}
