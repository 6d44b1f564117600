/*
 * The same core over a byte-stream transport (tcp://): frames are
 * reassembled from arbitrary splits, and the whole session, the pull API,
 * and a hostile stream behave as on ENet.
 */
#include "net_test.h"

static void use_tcp(void) { test_scheme = "tcp://"; }

Test(tcp, session_and_roundtrips, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    for (int i = 0; i < 20; i++) fx_roundtrip(&fx, "over tcp");
    const rec_event *e = rec_find(fx.sr, "net:server.connection.accept");
    cr_assert_not_null(e);
    cr_expect_eq(rec_count(fx.cr, "net:client.recv.game:echo"), 20);
    cr_assert_eq(hive_client_close(fx.cli, HIVE_CLOSE_NORMAL, "bye"), 0);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
    close_wait w = { &fx, hive_client_cid(fx.cli) };
    cr_assert(pump(fx.srv, NULL, 3000, fx_closed, &w));
    cr_expect_str_eq(fx_server_close(&fx, w.cid)->reason_name, "normal");
    fx_fini(&fx);
}

Test(tcp, large_message_split_across_reads, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    static char text[60000];
    memset(text, 'x', sizeof text - 1);
    fx_roundtrip(&fx, text);
    cr_expect_eq(strlen(rec_find(fx.cr, "net:client.recv")->msg_text), 63u);   /* recorder keeps 63 */
    fx_fini(&fx);
}

Test(tcp, kicked_and_server_stop, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, NULL, NULL, true);
    cr_assert_eq(hive_server_close(fx.srv, hive_client_cid(fx.cli), HIVE_CLOSE_KICKED, "out"), 0);
    cr_assert(pump(fx.srv, fx.cli, 3000, client_gone, fx.cli));
    cr_expect_str_eq(rec_find(fx.cr, "net:client.close")->reason_name, "kicked");
    fx_fini(&fx);
}

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static int tcp_dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* A raw TCP peer: a hello sent one byte at a time still works; then a
 * length over max_frame closes it with frame_too_large, before any body. */
Test(tcp, byte_by_byte_hello_then_oversized_length, .init = use_tcp, .timeout = 30)
{
    fixture fx;
    fx_init(&fx, &(hive_server_config){ .max_frame = 8192 }, NULL, true);
    int fd = tcp_dial(hive_server_port(fx.srv));
    hive_msg m;
    hello_msg(&m, "HIVE", HIVE_PROTOCOL_VERSION, "hive");
    uint8_t buf[256];
    size_t hn = hive__frame_header(buf, HIVE__PID_HELLO, 0, hive_msg_size(&m));
    memcpy(buf + hn, hive_msg_data(&m), hive_msg_size(&m));
    size_t total = hn + hive_msg_size(&m);
    hive_msg_free(&m);
    for (size_t i = 0; i < total; i++) {
        cr_assert_eq(send(fd, buf + i, 1, 0), 1);
        hive_server_service(fx.srv, 1);
    }
    int64_t cid = fx_accepted_cid(&fx, 1);
    cr_assert_gt(cid, 0);
    /* The welcome comes back. */
    uint8_t in[4096];
    ssize_t got = 0;
    for (int i = 0; i < 200 && got <= 0; i++) {
        hive_server_service(fx.srv, 1);
        got = recv(fd, in, sizeof in, MSG_DONTWAIT);
    }
    cr_assert_gt(got, 0);
    hive__frame f;
    cr_assert_eq(hive__frame_decode(in, (size_t)got, 1 << 20, &f), 1);
    cr_expect_eq(f.pid, HIVE__PID_WELCOME);

    const uint8_t huge[] = { 0xc0, 0x84, 0x3d };   /* length 1,000,000 */
    cr_assert_eq(send(fd, huge, sizeof huge, 0), (ssize_t)sizeof huge);
    const rec_event *e = fx_wait_close(&fx, NULL, cid, 3000);
    cr_assert_not_null(e);
    cr_expect_str_eq(e->reason_name, "frame_too_large");
    fx_roundtrip(&fx, "still serving");
    close(fd);
    fx_fini(&fx);
}
