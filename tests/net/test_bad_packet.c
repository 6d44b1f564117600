/* Well-formed frames the protocol does not allow. */
#include "net_test.h"

static void frame(uint32_t pid, bool handshake, int want)
{
    uint8_t b[32];
    const uint8_t body = 0x80;   /* {} */
    size_t hn = hive__frame_header(b, pid, 0, 1);
    b[hn] = body;
    expect_bad(b, hn + 1, handshake, want, NULL);
}

Test(bad_packet, unknown_user_packet_id, .timeout = 30)
{
    frame(999, true, HIVE_CLOSE_UNKNOWN_PACKET);
}

Test(bad_packet, unassigned_reserved_id, .timeout = 30)
{
    frame(40, true, HIVE_CLOSE_UNKNOWN_PACKET);
}

Test(bad_packet, pid_zero, .timeout = 30)
{
    frame(0, true, HIVE_CLOSE_UNKNOWN_PACKET);
}

Test(bad_packet, user_packet_before_the_handshake, .timeout = 30)
{
    frame(64, false, HIVE_CLOSE_UNEXPECTED_PACKET);
}

Test(bad_packet, ready_before_hello, .timeout = 30)
{
    frame(4, false, HIVE_CLOSE_UNEXPECTED_PACKET);
}

Test(bad_packet, second_hello, .timeout = 30)
{
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    uint8_t b[256];
    size_t hn = hive__frame_header(b, 1, 0, hive_msg_size(&m));
    memcpy(b + hn, hive_msg_data(&m), hive_msg_size(&m));
    expect_bad(b, hn + hive_msg_size(&m), true, HIVE_CLOSE_UNEXPECTED_PACKET, NULL);
    hive_msg_free(&m);
}

Test(bad_packet, welcome_sent_to_a_server, .timeout = 30)
{
    frame(2, true, HIVE_CLOSE_UNEXPECTED_PACKET);
}
